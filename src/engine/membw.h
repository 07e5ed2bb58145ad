// MembwProbe: this machine's streaming memory bandwidth, measured the way STREAM does (engine layer).
// Central idea: arrays much larger than the last-level cache are streamed by every thread of a
// ThreadPool over its own contiguous slice; the best of N repetitions is kept (STREAM's rule: the
// fastest run is the one least disturbed by the OS). Byte counts follow STREAM: read = 8 B per
// element, copy = 16 B (a read and a write), triad = 24 B; write-allocate traffic is not counted.
#pragma once

#include <cstdint>
#include <memory>

#include "core/expected.h"
#include "core/thread_pool.h"

namespace frugal {

struct MembwResult {
  int num_threads = 0;
  int64_t array_bytes = 0;     // bytes of each of the three arrays
  double read_gb_per_s = 0;    // sum += a[i]
  double copy_gb_per_s = 0;    // c[i] = a[i]
  double triad_gb_per_s = 0;   // a[i] = b[i] + s * c[i]
};

class MembwProbe {
 public:
  // Allocates and fills three arrays of array_bytes each (rounded down to whole doubles).
  // kInvalidArgument for sizes under 1 MiB; kResourceExhausted when the memory is not there.
  static Expected<MembwProbe> create(int64_t array_bytes);

  int64_t array_bytes() const { return n_elems_ * static_cast<int64_t>(sizeof(double)); }
  // Runs each kernel `repetitions` times (>= 1) on all of the pool's threads; best of each.
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
