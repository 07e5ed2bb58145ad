// MembwProbe: this machine's streaming memory bandwidth, measured the way STREAM does (engine layer).
// Central idea: arrays much larger than the last-level cache (4x by default, STREAM's rule, sized
// from the LLC sysfs reports) are streamed by every thread of a ThreadPool over its own contiguous
// slice, as a decode matmul streams its rows; each kernel runs once untimed (warm-up: page tables,
// frequency) and then N timed times. The best of N is the figure (STREAM's rule: the fastest run is
// the one least disturbed by the OS); the median and minimum are kept so callers can see the
// spread. Byte counts follow STREAM: read = 8 B per element, copy = 16 B (a read and a write),
// triad = 24 B; write-allocate traffic is not counted.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/expected.h"
#include "core/thread_pool.h"

namespace frugal {

// One kernel's N timed repetitions, in GB/s (1e9 B/s).
struct MembwStats {
  double best = 0;
  double median = 0;
  double min = 0;
  // (best - min) / best: 0 for identical runs; 0.2 when the slowest run was 20 % below the best.
  double relative_spread() const { return best > 0 ? (best - min) / best : 0; }
};
MembwStats membw_stats(std::vector<double> gb_per_s);  // {} for an empty vector

struct MembwResult {
  int num_threads = 0;
  int64_t array_bytes = 0;     // bytes of each of the three arrays
  int repetitions = 0;         // timed runs per kernel (after one warm-up run)
  double read_gb_per_s = 0;    // sum += a[i]; best of the repetitions
  double copy_gb_per_s = 0;    // c[i] = a[i]; best
  double triad_gb_per_s = 0;   // a[i] = b[i] + s * c[i]; best
  MembwStats read, copy, triad;
};

// Probe array size for a machine: 4x the last-level cache (STREAM's rule; at least 128 MiB when the
// LLC is unknown or small), reduced so the three arrays take at most half of `available_bytes`
// (MemAvailable; 0 = unknown, no cap). Rounded down to whole MiB, never below 1 MiB.
int64_t default_probe_array_bytes(int64_t llc_bytes, int64_t available_bytes);

class MembwProbe {
 public:
  // Allocates and fills three arrays of array_bytes each (rounded down to whole doubles).
  // kInvalidArgument for sizes under 1 MiB; kResourceExhausted when the memory is not there.
  static Expected<MembwProbe> create(int64_t array_bytes);

  int64_t array_bytes() const { return n_elems_ * static_cast<int64_t>(sizeof(double)); }
  // Runs each kernel once untimed, then `repetitions` times (>= 1) timed, on all of the pool's
  // threads.
  MembwResult measure(ThreadPool& pool, int repetitions);

 private:
  struct FreeAligned {
    void operator()(double* p) const;
  };
  using Array = std::unique_ptr<double[], FreeAligned>;
  MembwProbe(int64_t n_elems, Array a, Array b, Array c);

  int64_t n_elems_ = 0;
  Array a_, b_, c_;  // [n_elems_] each
};

}  // namespace frugal
