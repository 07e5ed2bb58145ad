// The peak-f32 FLOP/s probe's inner loop (kernels layer): independent FMA chains on
// register-resident vectors. The body is plain C++ (GCC vector extensions); each ISA table TU
// instantiates it with its own vector width and chain count, so it is compiled with that TU's
// flags and the ISA-specific code stays in src/kernels/.
#pragma once

#include <cstdint>
#include <string_view>

namespace frugal {

// One ISA's probe loop. loop(iterations, seed) runs kChains chains of acc = acc * m + a for
// `iterations` rounds and returns a sum of the results (so the work cannot be dropped).
struct FmaProbe {
  std::string_view variant;                              // "avx512", "avx2" or "portable"
  float (*loop)(int64_t iterations, float seed) = nullptr;
  double flops_per_iteration = 0;                        // 2 x lanes x chains
};

namespace {
namespace fma_probe_detail {

// f32 vectors of 4, 8 or 16 lanes (GCC vector extensions; vector_size cannot be a dependent size).
template <int kLanes> struct VecF32;
template <> struct VecF32<4> { using Type = float __attribute__((vector_size(16))); };
template <> struct VecF32<8> { using Type = float __attribute__((vector_size(32))); };
template <> struct VecF32<16> { using Type = float __attribute__((vector_size(64))); };

// mul slightly below 1 and a small add keep every value finite and normal (no denormal slow path).
template <typename Vec, int kChains>
float fma_chains(int64_t iterations, float seed) {
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

}  // namespace fma_probe_detail

// The probe of a TU whose vectors hold kLanes f32; kChains = FMA latency x FMA ports, within the
// register file. Call it only from the TU compiled for that width (anonymous namespace: each ISA
// TU gets its own copy, built with its own flags).
template <int kLanes, int kChains>
FmaProbe make_fma_probe(std::string_view variant) {
  using Vec = typename fma_probe_detail::VecF32<kLanes>::Type;
  return FmaProbe{variant, &fma_probe_detail::fma_chains<Vec, kChains>, 2.0 * kLanes * kChains};
}
}  // namespace

}  // namespace frugal
