// Peak f32 FLOP/s probe: what this machine's cores sustain on independent FMA chains (engine layer).
// What it measures: every thread of a ThreadPool runs independent multiply-add chains on
// register-resident vectors (no memory traffic), so the rate is bound by the FMA units alone. The
// loop is the kernel table's `fma_probe` (kernels/fma_probe.h): AVX-512 (16 f32 lanes, 8 chains to
// cover a 4-cycle latency on 2 ports), AVX2+FMA (8 lanes, 10 chains for 5 cycles x 2 ports) or a
// portable SSE2 fallback (separate multiply and add), each compiled in its ISA's kernel TU; the
// table in use (FRUGAL_ISA or the best this CPU supports) picks it. It counts 2 FLOPs per lane per
// FMA. It does not measure an int8 dot product (VNNI/AMX) rate.
#pragma once

#include <string_view>

#include "core/thread_pool.h"

namespace frugal {

struct FlopsProbeResult {
  int num_threads = 0;
  double f32_flops_per_s = 0;   // all of the pool's threads together
  std::string_view variant;     // "avx512", "avx2" or "portable"
};

// Best of `repetitions` runs, each about min_seconds long.
FlopsProbeResult measure_peak_flops(ThreadPool& pool, double min_seconds = 0.05, int repetitions = 3);

}  // namespace frugal
