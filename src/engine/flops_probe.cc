#include "engine/flops_probe.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "kernels/kernel_table.h"

namespace frugal {
namespace {

double time_run(ThreadPool& pool, const FmaProbe& probe, int64_t iterations, std::vector<float>& sinks) {
  const auto start = std::chrono::steady_clock::now();
  pool.run([&](int thread_idx, int) {
    sinks[static_cast<size_t>(thread_idx)] += probe.loop(iterations, 1.0f + 0.01f * thread_idx);
  });
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

FlopsProbeResult measure_peak_flops(ThreadPool& pool, double min_seconds, int repetitions) {
  // The loop of the kernel table in use: the widest vectors frugal's kernels run on this CPU.
  const FmaProbe& probe = kernels().fma_probe;
  std::vector<float> sinks(static_cast<size_t>(pool.num_threads()), 0.0f);
  // Grow the iteration count until one run lasts min_seconds (this also warms the cores up).
  int64_t iterations = int64_t{1} << 16;
  double seconds = time_run(pool, probe, iterations, sinks);
  while (seconds < min_seconds && iterations < (int64_t{1} << 40)) {
    iterations *= 2;
    seconds = time_run(pool, probe, iterations, sinks);
  }
  double best = seconds;
  for (int rep = 1; rep < repetitions; ++rep) best = std::min(best, time_run(pool, probe, iterations, sinks));
  volatile float sink = 0;
  for (float s : sinks) sink = sink + s;

  FlopsProbeResult r;
  r.num_threads = pool.num_threads();
  r.variant = probe.variant;
  r.f32_flops_per_s = static_cast<double>(iterations) * probe.flops_per_iteration * pool.num_threads() / best;
  return r;
}

}  // namespace frugal
