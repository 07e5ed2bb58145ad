#include "engine/flops_probe.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "kernels/cpu_features.h"

namespace frugal {
namespace {

// GCC vector extensions: plain C++ arithmetic on fixed-width vectors (no intrinsics).
using VecF32x16 = float __attribute__((vector_size(64)));
using VecF32x8 = float __attribute__((vector_size(32)));
using VecF32x4 = float __attribute__((vector_size(16)));

// acc = acc * mul + add on kChains independent vectors for `iterations` rounds. mul slightly below
// 1 and a small add keep every value finite and normal (no denormal slow path). Returns a sum
// so the work cannot be dropped.
template <typename Vec, int kChains>
[[gnu::always_inline]] inline float fma_chains(int64_t iterations, float seed) {
  constexpr int kLanes = sizeof(Vec) / sizeof(float);
  Vec acc[kChains];
  for (int chain_idx = 0; chain_idx < kChains; ++chain_idx) acc[chain_idx] = Vec{} + (seed + 0.125f * chain_idx);
  const Vec mul = Vec{} + 0.999999f;
  const Vec add = Vec{} + 1e-6f;
  for (int64_t it = 0; it < iterations; ++it) {
    for (int chain_idx = 0; chain_idx < kChains; ++chain_idx) acc[chain_idx] = acc[chain_idx] * mul + add;
  }
  Vec total = Vec{};
  for (int chain_idx = 0; chain_idx < kChains; ++chain_idx) total += acc[chain_idx];
  float sum = 0;
  for (int lane = 0; lane < kLanes; ++lane) sum += total[lane];
  return sum;
}

// Chains = FMA latency x FMA ports, within the register file (32 zmm / 16 ymm).
constexpr int kChainsAvx512 = 8;
constexpr int kChainsAvx2 = 10;
constexpr int kChainsPortable = 8;

__attribute__((target("avx512f,avx2,fma"))) float fma_loop_avx512(int64_t iterations, float seed) {
  return fma_chains<VecF32x16, kChainsAvx512>(iterations, seed);
}
__attribute__((target("avx2,fma"))) float fma_loop_avx2(int64_t iterations, float seed) {
  return fma_chains<VecF32x8, kChainsAvx2>(iterations, seed);
}
float fma_loop_portable(int64_t iterations, float seed) {
  return fma_chains<VecF32x4, kChainsPortable>(iterations, seed);
}

struct Variant {
  std::string_view name;
  float (*loop)(int64_t, float);
  double flops_per_iteration;  // 2 x lanes x chains
};

Variant pick_variant() {
  const CpuFeatures& f = cpu_features();
  if (f.os_avx512 && f.avx512f && f.fma) return {"avx512", fma_loop_avx512, 2.0 * 16 * kChainsAvx512};
  if (f.os_avx && f.avx2 && f.fma) return {"avx2", fma_loop_avx2, 2.0 * 8 * kChainsAvx2};
  return {"portable", fma_loop_portable, 2.0 * 4 * kChainsPortable};
}

double time_run(ThreadPool& pool, const Variant& v, int64_t iterations, std::vector<float>& sinks) {
  const auto start = std::chrono::steady_clock::now();
  pool.run([&](int thread_idx, int) {
    sinks[static_cast<size_t>(thread_idx)] += v.loop(iterations, 1.0f + 0.01f * thread_idx);
  });
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

FlopsProbeResult measure_peak_flops(ThreadPool& pool, double min_seconds, int repetitions) {
  const Variant v = pick_variant();
  std::vector<float> sinks(static_cast<size_t>(pool.num_threads()), 0.0f);
  // Grow the iteration count until one run lasts min_seconds (this also warms the cores up).
  int64_t iterations = int64_t{1} << 16;
  double seconds = time_run(pool, v, iterations, sinks);
  while (seconds < min_seconds && iterations < (int64_t{1} << 40)) {
    iterations *= 2;
    seconds = time_run(pool, v, iterations, sinks);
  }
  double best = seconds;
  for (int rep = 1; rep < repetitions; ++rep) best = std::min(best, time_run(pool, v, iterations, sinks));
  volatile float sink = 0;
  for (float s : sinks) sink = sink + s;

  FlopsProbeResult r;
  r.num_threads = pool.num_threads();
  r.variant = v.name;
  r.f32_flops_per_s = static_cast<double>(iterations) * v.flops_per_iteration * pool.num_threads() / best;
  return r;
}

}  // namespace frugal
