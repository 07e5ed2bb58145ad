// f32 primitives for attention over the f32 KV cache (kernels layer), one tile of K/V rows per call
// (rows are gathered by offset, as the paged cache scatters positions over blocks):
//   dot_rows:  scores[i] = scale * (q . base[offsets[i] .. +dim))            i < n
//   axpy_rows: acc[j]   += sum_i w[i] * base[offsets[i] + j]                 j < dim
// Written once as lane-parallel loops; each ISA's table TU instantiates them with its own compiler
// flags, so the compiler maps the kLanes independent accumulators onto that ISA's vector registers
// (ref: kLanes = 1, a plain in-order sum, the reference).
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

template <int kLanes>
void dot_rows_f32_lanes(const float* q, const float* base, const int64_t* offsets, int64_t n, int64_t dim,
                        float scale, float* scores) {
  for (int64_t i = 0; i < n; ++i) scores[i] = dot_f32_lanes<kLanes>(q, base + offsets[i], dim) * scale;
}

// Rows in order, each added to acc element by element (one multiply-add per element and row).
inline void axpy_rows_f32_loop(const float* w, const float* base, const int64_t* offsets, int64_t n, int64_t dim,
                               float* acc) {
  for (int64_t i = 0; i < n; ++i) {
    const float* x = base + offsets[i];
    const float alpha = w[i];
    for (int64_t j = 0; j < dim; ++j) acc[j] += alpha * x[j];
  }
}

}  // namespace
}  // namespace frugal
