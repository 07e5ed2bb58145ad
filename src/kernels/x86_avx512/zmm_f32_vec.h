// AVX-512 attention primitives over a tile of f32 K/V rows (kernels layer, AVX-512 TU only); the
// contract is f32_vec.h's dot_rows / axpy_rows for a block of queries. For head sizes 32, 64, 80,
// 96 and 128: dot_rows scores sixteen rows at a time for every query of the block and sums the
// sixteen rows' partial vectors together (zmm_sum16_transposed: the same bits as reducing each
// alone); axpy_rows keeps up to 16 registers of the block's accumulators live across the tile
// (x86_attention_blocks.h). Other sizes take a per-row loop with a masked tail.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/x86_common/x86_attention_blocks.h"

namespace frugal::x86 {
namespace {

inline __mmask16 tail_mask(int64_t remaining) {
  return static_cast<__mmask16>((1u << static_cast<unsigned>(remaining)) - 1u);
}

float zmm_dot_f32(const float* a, const float* b, int64_t n) {
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  if (i + 16 <= n) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    i += 16;
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

void zmm_axpy_f32(float alpha, const float* x, float* y, int64_t n) {
  const __m512 va = _mm512_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

// Sixteen 16-lane partial sums -> one vector of their horizontal sums, by the pairing tree of
// _mm512_reduce_add_ps (lane l with l + 8, then + 4, + 2, + 1), so a row's score is the same bits
// as reducing it alone. Input slot s holds row 4 * (s % 4) + s / 4; output lane m is row m.
inline __m512 zmm_sum16_transposed(const __m512* v) {
  __m512 a[8];  // slot pairs: lanes l + (l + 8) of slot 2k in chunks 0-1, of slot 2k + 1 in chunks 2-3
  for (int k = 0; k < 8; ++k) {
    a[k] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  __m512 b[4];  // + 4: chunk c of b[k] is slot 4k + c
  for (int k = 0; k < 4; ++k) {
    b[k] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * k], a[2 * k + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(a[2 * k], a[2 * k + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  }
  __m512 c[2];  // + 2: chunk c of c[k] holds slots 8k + c (lanes 0-1) and 8k + 4 + c (lanes 2-3)
  for (int k = 0; k < 2; ++k) {
    c[k] = _mm512_add_ps(_mm512_shuffle_ps(b[2 * k], b[2 * k + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(b[2 * k], b[2 * k + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  // + 1: lane 4c + p is slot c + 4p
  return _mm512_add_ps(_mm512_shuffle_ps(c[0], c[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_ps(c[0], c[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// dim == 16 * kVecs, sixteen rows at a time past every query of the block (the rows stay in L1):
// per (query, row) a multiply-add over the kVecs vectors in order, then the horizontal sums of 16
// rows together (zmm_sum16_transposed). A short last group is padded with zero sums.
template <int kVecs>
void zmm_dot_rows_fixed(const float* q, int64_t n_q, const float* base, const int64_t* offsets, int64_t n,
                        float scale, float* scores, int64_t scores_stride) {
  constexpr int64_t kDim = 16 * kVecs;
  const __m512 vscale = _mm512_set1_ps(scale);
  for (int64_t i0 = 0; i0 < n; i0 += 16) {
    const int64_t rows = std::min<int64_t>(16, n - i0);
    const float* r[16];
    for (int s = 0; s < 16; ++s) {
      const int64_t row = 4 * (s % 4) + s / 4;
      r[s] = row < rows ? base + offsets[i0 + row] : nullptr;
    }
    for (int64_t j = 0; j < n_q; ++j) {
      const float* qj = q + j * kDim;
      __m512 p[16];
#pragma GCC unroll 16
      for (int s = 0; s < 16; ++s) {
        if (r[s] == nullptr) {
          p[s] = _mm512_setzero_ps();
          continue;
        }
        p[s] = _mm512_mul_ps(_mm512_loadu_ps(qj), _mm512_loadu_ps(r[s]));
        for (int v = 1; v < kVecs; ++v) p[s] = _mm512_fmadd_ps(_mm512_loadu_ps(qj + 16 * v), _mm512_loadu_ps(r[s] + 16 * v), p[s]);
      }
      const __m512 sums = _mm512_mul_ps(zmm_sum16_transposed(p), vscale);
      _mm512_mask_storeu_ps(scores + j * scores_stride + i0, tail_mask(rows), sums);
    }
  }
}

// 16-lane f32 vectors for x86_attention_blocks.h.
struct ZmmF32 {
  using V = __m512;
  static constexpr int64_t kLanes = 16;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
};

void zmm_dot_rows_f32(const float* q, int64_t n_q, const float* base, const int64_t* offsets, int64_t n, int64_t dim,
                      float scale, float* scores, int64_t scores_stride) {
  switch (dim) {
    case 32: return zmm_dot_rows_fixed<2>(q, n_q, base, offsets, n, scale, scores, scores_stride);
    case 64: return zmm_dot_rows_fixed<4>(q, n_q, base, offsets, n, scale, scores, scores_stride);
    case 80: return zmm_dot_rows_fixed<5>(q, n_q, base, offsets, n, scale, scores, scores_stride);
    case 96: return zmm_dot_rows_fixed<6>(q, n_q, base, offsets, n, scale, scores, scores_stride);
    case 128: return zmm_dot_rows_fixed<8>(q, n_q, base, offsets, n, scale, scores, scores_stride);
    default:
      for (int64_t j = 0; j < n_q; ++j) {
        for (int64_t i = 0; i < n; ++i) scores[j * scores_stride + i] = zmm_dot_f32(q + j * dim, base + offsets[i], dim) * scale;
      }
  }
}

void zmm_axpy_rows_f32(const float* w, int64_t w_stride, const int64_t* n_rows, int64_t n_q, const float* base,
                       const int64_t* offsets, int64_t dim, float* acc) {
  switch (dim) {
    case 32: return axpy_rows_fixed<ZmmF32, 2, 16 / 2>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 64: return axpy_rows_fixed<ZmmF32, 4, 16 / 4>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 80: return axpy_rows_fixed<ZmmF32, 5, 16 / 5>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 96: return axpy_rows_fixed<ZmmF32, 6, 16 / 6>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 128: return axpy_rows_fixed<ZmmF32, 8, 16 / 8>(w, w_stride, n_rows, n_q, base, offsets, acc);
    default:
      for (int64_t j = 0; j < n_q; ++j) {
        for (int64_t i = 0; i < n_rows[j]; ++i) zmm_axpy_f32(w[j * w_stride + i], base + offsets[i], acc + j * dim, dim);
      }
  }
}

}  // namespace
}  // namespace frugal::x86
