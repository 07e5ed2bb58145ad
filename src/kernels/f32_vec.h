// f32 primitives for attention over the f32 KV cache (kernels layer), one tile of K/V rows per call
// (rows are gathered by offset, as the paged cache scatters positions over blocks), for a block of
// n_q queries that share the rows (a K/V head's query heads, several tokens of one sequence):
//   dot_rows:  scores[j * scores_stride + i] = scale * (q_j . base[offsets[i] .. +dim))   j < n_q, i < n
//   axpy_rows: acc_j[d] += sum_{i < n_rows[j]} w[j * w_stride + i] * base[offsets[i] + d]   d < dim
// with q_j = q + j * dim and acc_j = acc + j * dim. A query's arithmetic never depends on the
// others in its block (batch invariance): the block only shares the loads of the rows.
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
void dot_rows_f32_lanes(const float* q, int64_t n_q, const float* base, const int64_t* offsets, int64_t n,
                        int64_t dim, float scale, float* scores, int64_t scores_stride) {
  for (int64_t j = 0; j < n_q; ++j) {
    for (int64_t i = 0; i < n; ++i) {
      scores[j * scores_stride + i] = dot_f32_lanes<kLanes>(q + j * dim, base + offsets[i], dim) * scale;
    }
  }
}

// Per query, rows in order, each added to acc element by element (one multiply-add per element
// and row).
inline void axpy_rows_f32_loop(const float* w, int64_t w_stride, const int64_t* n_rows, int64_t n_q,
                               const float* base, const int64_t* offsets, int64_t dim, float* acc) {
  for (int64_t q = 0; q < n_q; ++q) {
    float* a = acc + q * dim;
    for (int64_t i = 0; i < n_rows[q]; ++i) {
      const float* x = base + offsets[i];
      const float alpha = w[q * w_stride + i];
      for (int64_t j = 0; j < dim; ++j) a[j] += alpha * x[j];
    }
  }
}

}  // namespace
}  // namespace frugal
