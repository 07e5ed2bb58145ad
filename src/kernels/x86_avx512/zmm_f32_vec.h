// AVX-512 attention primitives over a tile of f32 K/V rows (kernels layer, AVX-512 TU only); the
// contract is f32_vec.h's dot_rows / axpy_rows. For the usual head sizes (a multiple of 16 up to
// 128): dot_rows runs four rows at a time (four independent FMA chains) past every query of the
// block, axpy_rows keeps up to 16 registers of the block's accumulators live across the tile and
// loads each row once for them. Other sizes take a per-row loop with a masked tail.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

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

// dim == 16 * kVecs, Q queries at once: their accumulators (Q * kVecs registers) stay in registers
// across rows [0, n), each row is loaded once for all Q. Per query: one multiply-add per vector
// and row, rows in order (Q independent chains per vector hide the multiply-add latency).
template <int kVecs, int Q>
void zmm_axpy_rows_block(const float* w, int64_t w_stride, int64_t n, const float* base, const int64_t* offsets,
                         float* acc) {
  constexpr int64_t kDim = 16 * kVecs;
  __m512 av[Q][kVecs];
  for (int j = 0; j < Q; ++j)
    for (int v = 0; v < kVecs; ++v) av[j][v] = _mm512_loadu_ps(acc + j * kDim + 16 * v);
  for (int64_t i = 0; i < n; ++i) {
    const float* r = base + offsets[i];
    __m512 rv[kVecs];
    for (int v = 0; v < kVecs; ++v) rv[v] = _mm512_loadu_ps(r + 16 * v);
    for (int j = 0; j < Q; ++j) {
      const __m512 wi = _mm512_set1_ps(w[j * w_stride + i]);
      for (int v = 0; v < kVecs; ++v) av[j][v] = _mm512_fmadd_ps(wi, rv[v], av[j][v]);
    }
  }
  for (int j = 0; j < Q; ++j)
    for (int v = 0; v < kVecs; ++v) _mm512_storeu_ps(acc + j * kDim + 16 * v, av[j][v]);
}

// Queries [0, n_q) over rows [0, n) in blocks of Q, the rest with Q / 2 (each halving runs at most
// once).
template <int kVecs, int Q>
void zmm_axpy_rows_blocks(const float* w, int64_t w_stride, int64_t n_q, int64_t n, const float* base,
                          const int64_t* offsets, float* acc) {
  int64_t j = 0;
  for (; j + Q <= n_q; j += Q) zmm_axpy_rows_block<kVecs, Q>(w + j * w_stride, w_stride, n, base, offsets, acc + j * 16 * kVecs);
  if constexpr (Q > 1) {
    zmm_axpy_rows_blocks<kVecs, Q / 2>(w + j * w_stride, w_stride, n_q - j, n, base, offsets, acc + j * 16 * kVecs);
  }
}

// The rows every query takes go through the blocks; each query's own further rows follow, in order.
template <int kVecs>
void zmm_axpy_rows_fixed(const float* w, int64_t w_stride, const int64_t* n_rows, int64_t n_q, const float* base,
                         const int64_t* offsets, float* acc) {
  constexpr int kQ = 16 / kVecs > 0 ? 16 / kVecs : 1;  // <= 16 accumulator registers
  if (n_q <= 0) return;
  const int64_t common = *std::min_element(n_rows, n_rows + n_q);
  zmm_axpy_rows_blocks<kVecs, kQ>(w, w_stride, n_q, common, base, offsets, acc);
  for (int64_t j = 0; j < n_q; ++j) {
    if (n_rows[j] > common) {
      zmm_axpy_rows_block<kVecs, 1>(w + j * w_stride + common, w_stride, n_rows[j] - common, base, offsets + common,
                                    acc + j * 16 * kVecs);
    }
  }
}

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
    case 32: return zmm_axpy_rows_fixed<2>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 64: return zmm_axpy_rows_fixed<4>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 80: return zmm_axpy_rows_fixed<5>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 96: return zmm_axpy_rows_fixed<6>(w, w_stride, n_rows, n_q, base, offsets, acc);
    case 128: return zmm_axpy_rows_fixed<8>(w, w_stride, n_rows, n_q, base, offsets, acc);
    default:
      for (int64_t j = 0; j < n_q; ++j) {
        for (int64_t i = 0; i < n_rows[j]; ++i) zmm_axpy_f32(w[j * w_stride + i], base + offsets[i], acc + j * dim, dim);
      }
  }
}

}  // namespace
}  // namespace frugal::x86
