// f32 vector primitives for attention over the f32 KV cache (kernels layer): dot(a, b) and
// y += alpha * x. Written once as lane-parallel loops; each ISA's table TU instantiates them with
// its own compiler flags, so the compiler maps the kLanes independent accumulators onto that ISA's
// vector registers (ref: kLanes = 1, a plain in-order sum, the reference).
#pragma once

#include <cstdint>

namespace frugal {
// Internal linkage on purpose: each ISA TU must keep its own copy, compiled with its own flags (one
// shared inline definition could be the AVX-512 build, picked by the linker for the ref table too).
namespace {

// sum_i a[i] * b[i] over kLanes interleaved partial sums (then the tail in order).
template <int kLanes>
float dot_f32_lanes(const float* a, const float* b, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int lane = 0; lane < kLanes; ++lane) acc[lane] += a[i + lane] * b[i + lane];
  }
  float sum = 0.0f;
  for (int lane = 0; lane < kLanes; ++lane) sum += acc[lane];
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// y[i] += alpha * x[i], i in [0, n).
inline void axpy_f32_loop(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace
}  // namespace frugal
