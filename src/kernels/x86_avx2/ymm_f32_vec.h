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
#include "kernels/x86_common/x86_attention_blocks.h"
#include "kernels/x86_common/x86_simd.h"

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
      _mm256_maskstore_ps(scores + j * scores_stride + i0, tail_lanes(rows), sums);
    }
  }
}

// 8-lane f32 vectors for x86_attention_blocks.h.
struct YmmF32 {
  using V = __m256;
  static constexpr int64_t kLanes = 8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
};

void ymm_axpy_rows_f32(const float* w, int64_t w_stride, const int64_t* n_rows, int64_t n_q, const float* base,
                       const int64_t* offsets, int64_t dim, float* acc) {
  switch (dim) {
    case 32: return axpy_rows_fixed<YmmF32, 4, 3>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 64: return axpy_rows_fixed<YmmF32, 8, 1>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 80: return axpy_rows_fixed<YmmF32, 10, 1>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 96: return axpy_rows_fixed<YmmF32, 12, 1>(w, w_stride, n_rows, n_q, base, offsets, acc);
    default: return axpy_rows_f32_loop(w, w_stride, n_rows, n_q, base, offsets, dim, acc);
  }
}

}  // namespace
}  // namespace frugal::x86
