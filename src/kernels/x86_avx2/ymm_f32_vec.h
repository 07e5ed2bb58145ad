// AVX2 attention primitives over a tile of f32 K/V rows (kernels layer, AVX2 TU only); the contract
// is f32_vec.h's dot_rows / axpy_rows for a block of queries. With 16 ymm registers:
//   dot_rows (head sizes a multiple of 8): eight rows at a time past every query of the block,
//     each (query, row) a multiply-add over the head's vectors in order, then the eight rows'
//     partial vectors summed together (ymm_sum8_transposed);
//   axpy_rows (head sizes 32, 64, 80, 96): up to 12 registers of accumulators live across the
//     tile (3 queries of 32, else one query), one multiply-add per vector and row in row order.
// Other sizes take f32_vec.h's loops. A query's arithmetic never depends on the rest of its block.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/f32_vec.h"

namespace frugal::x86 {
namespace {

// Eight 8-lane partial sums -> one vector of their horizontal sums (lane m: row m); per row the
// tree is ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)).
inline __m256 ymm_sum8_transposed(const __m256* v) {
  const __m256 t0 = _mm256_hadd_ps(v[0], v[1]);  // rows 0, 1: pairs (01, 23 | 45, 67)
  const __m256 t1 = _mm256_hadd_ps(v[2], v[3]);
  const __m256 t2 = _mm256_hadd_ps(v[4], v[5]);
  const __m256 t3 = _mm256_hadd_ps(v[6], v[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1);  // rows 0-3: lanes 0-3 of each in the low half, 4-7 in the high
  const __m256 u1 = _mm256_hadd_ps(t2, t3);  // rows 4-7
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

inline __m256i ymm_tail_mask(int64_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

void ymm_dot_rows_f32(const float* q, int64_t n_q, const float* base, const int64_t* offsets, int64_t n, int64_t dim,
                      float scale, float* scores, int64_t scores_stride) {
  if (dim % 8 != 0) return dot_rows_f32_lanes<8>(q, n_q, base, offsets, n, dim, scale, scores, scores_stride);
  const __m256 vscale = _mm256_set1_ps(scale);
  for (int64_t i0 = 0; i0 < n; i0 += 8) {
    const int64_t rows = std::min<int64_t>(8, n - i0);
    for (int64_t j = 0; j < n_q; ++j) {
      const float* qj = q + j * dim;
      __m256 p[8];
      for (int s = 0; s < 8; ++s) {
        if (s >= rows) {
          p[s] = _mm256_setzero_ps();
          continue;
        }
        const float* r = base + offsets[i0 + s];
        p[s] = _mm256_mul_ps(_mm256_loadu_ps(qj), _mm256_loadu_ps(r));
        for (int64_t d = 8; d < dim; d += 8) p[s] = _mm256_fmadd_ps(_mm256_loadu_ps(qj + d), _mm256_loadu_ps(r + d), p[s]);
      }
      const __m256 sums = _mm256_mul_ps(ymm_sum8_transposed(p), vscale);
      _mm256_maskstore_ps(scores + j * scores_stride + i0, ymm_tail_mask(rows), sums);
    }
  }
}

// dim == 8 * kVecs, Q queries over rows [0, n): Q * kVecs accumulators in registers.
template <int kVecs, int Q>
void ymm_axpy_rows_block(const float* w, int64_t w_stride, int64_t n, const float* base, const int64_t* offsets,
                         float* acc) {
  constexpr int64_t kDim = 8 * kVecs;
  __m256 av[Q][kVecs];
  for (int j = 0; j < Q; ++j)
    for (int v = 0; v < kVecs; ++v) av[j][v] = _mm256_loadu_ps(acc + j * kDim + 8 * v);
  for (int64_t i = 0; i < n; ++i) {
    const float* r = base + offsets[i];
    for (int j = 0; j < Q; ++j) {
      const __m256 wi = _mm256_set1_ps(w[j * w_stride + i]);
      for (int v = 0; v < kVecs; ++v) av[j][v] = _mm256_fmadd_ps(wi, _mm256_loadu_ps(r + 8 * v), av[j][v]);
    }
  }
  for (int j = 0; j < Q; ++j)
    for (int v = 0; v < kVecs; ++v) _mm256_storeu_ps(acc + j * kDim + 8 * v, av[j][v]);
}

// The rows every query takes in blocks of Q queries (then one at a time); each query's own further
// rows follow, in order.
template <int kVecs, int Q>
void ymm_axpy_rows_fixed(const float* w, int64_t w_stride, const int64_t* n_rows, int64_t n_q, const float* base,
                         const int64_t* offsets, float* acc) {
  constexpr int64_t kDim = 8 * kVecs;
  if (n_q <= 0) return;
  const int64_t common = *std::min_element(n_rows, n_rows + n_q);
  int64_t j = 0;
  for (; j + Q <= n_q; j += Q) ymm_axpy_rows_block<kVecs, Q>(w + j * w_stride, w_stride, common, base, offsets, acc + j * kDim);
  for (; j < n_q; ++j) ymm_axpy_rows_block<kVecs, 1>(w + j * w_stride, w_stride, common, base, offsets, acc + j * kDim);
  for (j = 0; j < n_q; ++j) {
    if (n_rows[j] > common) {
      ymm_axpy_rows_block<kVecs, 1>(w + j * w_stride + common, w_stride, n_rows[j] - common, base, offsets + common,
                                    acc + j * kDim);
    }
  }
}

void ymm_axpy_rows_f32(const float* w, int64_t w_stride, const int64_t* n_rows, int64_t n_q, const float* base,
                       const int64_t* offsets, int64_t dim, float* acc) {
  switch (dim) {
    case 32: return ymm_axpy_rows_fixed<4, 3>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 64: return ymm_axpy_rows_fixed<8, 1>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 80: return ymm_axpy_rows_fixed<10, 1>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 96: return ymm_axpy_rows_fixed<12, 1>(w, w_stride, n_rows, n_q, base, offsets, acc);
    default: return axpy_rows_f32_loop(w, w_stride, n_rows, n_q, base, offsets, dim, acc);
  }
}

}  // namespace
}  // namespace frugal::x86
