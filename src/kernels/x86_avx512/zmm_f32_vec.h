// AVX-512 attention primitives over a tile of f32 K/V rows (kernels layer, AVX-512 TU only); the
// contract is f32_vec.h's dot_rows / axpy_rows. For the usual head sizes (a multiple of 16 up to
// 128) q and the accumulator stay in zmm registers for the whole tile: dot_rows runs four rows at
// a time (four independent FMA chains), axpy_rows adds every row into register-resident sums and
// stores once. Other sizes take a per-row loop with a masked tail.
#pragma once

#include <immintrin.h>

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

// dim == 16 * kVecs: q held in kVecs registers, four rows per iteration.
template <int kVecs>
void zmm_dot_rows_fixed(const float* q, const float* base, const int64_t* offsets, int64_t n, float scale,
                        float* scores) {
  __m512 qv[kVecs];
  for (int v = 0; v < kVecs; ++v) qv[v] = _mm512_loadu_ps(q + 16 * v);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float* r0 = base + offsets[i];
    const float* r1 = base + offsets[i + 1];
    const float* r2 = base + offsets[i + 2];
    const float* r3 = base + offsets[i + 3];
    __m512 a0 = _mm512_mul_ps(qv[0], _mm512_loadu_ps(r0));
    __m512 a1 = _mm512_mul_ps(qv[0], _mm512_loadu_ps(r1));
    __m512 a2 = _mm512_mul_ps(qv[0], _mm512_loadu_ps(r2));
    __m512 a3 = _mm512_mul_ps(qv[0], _mm512_loadu_ps(r3));
    for (int v = 1; v < kVecs; ++v) {
      a0 = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(r0 + 16 * v), a0);
      a1 = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(r1 + 16 * v), a1);
      a2 = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(r2 + 16 * v), a2);
      a3 = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(r3 + 16 * v), a3);
    }
    scores[i] = _mm512_reduce_add_ps(a0) * scale;
    scores[i + 1] = _mm512_reduce_add_ps(a1) * scale;
    scores[i + 2] = _mm512_reduce_add_ps(a2) * scale;
    scores[i + 3] = _mm512_reduce_add_ps(a3) * scale;
  }
  for (; i < n; ++i) {
    const float* r = base + offsets[i];
    __m512 a = _mm512_mul_ps(qv[0], _mm512_loadu_ps(r));
    for (int v = 1; v < kVecs; ++v) a = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(r + 16 * v), a);
    scores[i] = _mm512_reduce_add_ps(a) * scale;
  }
}

// dim == 16 * kVecs: the accumulator held in kVecs registers across all n rows.
template <int kVecs>
void zmm_axpy_rows_fixed(const float* w, const float* base, const int64_t* offsets, int64_t n, float* acc) {
  __m512 av[kVecs];
  for (int v = 0; v < kVecs; ++v) av[v] = _mm512_loadu_ps(acc + 16 * v);
  for (int64_t i = 0; i < n; ++i) {
    const float* r = base + offsets[i];
    const __m512 wi = _mm512_set1_ps(w[i]);
    for (int v = 0; v < kVecs; ++v) av[v] = _mm512_fmadd_ps(wi, _mm512_loadu_ps(r + 16 * v), av[v]);
  }
  for (int v = 0; v < kVecs; ++v) _mm512_storeu_ps(acc + 16 * v, av[v]);
}

void zmm_dot_rows_f32(const float* q, const float* base, const int64_t* offsets, int64_t n, int64_t dim, float scale,
                      float* scores) {
  switch (dim) {
    case 32: return zmm_dot_rows_fixed<2>(q, base, offsets, n, scale, scores);
    case 64: return zmm_dot_rows_fixed<4>(q, base, offsets, n, scale, scores);
    case 80: return zmm_dot_rows_fixed<5>(q, base, offsets, n, scale, scores);
    case 96: return zmm_dot_rows_fixed<6>(q, base, offsets, n, scale, scores);
    case 128: return zmm_dot_rows_fixed<8>(q, base, offsets, n, scale, scores);
    default:
      for (int64_t i = 0; i < n; ++i) scores[i] = zmm_dot_f32(q, base + offsets[i], dim) * scale;
  }
}

void zmm_axpy_rows_f32(const float* w, const float* base, const int64_t* offsets, int64_t n, int64_t dim,
                       float* acc) {
  switch (dim) {
    case 32: return zmm_axpy_rows_fixed<2>(w, base, offsets, n, acc);
    case 64: return zmm_axpy_rows_fixed<4>(w, base, offsets, n, acc);
    case 80: return zmm_axpy_rows_fixed<5>(w, base, offsets, n, acc);
    case 96: return zmm_axpy_rows_fixed<6>(w, base, offsets, n, acc);
    case 128: return zmm_axpy_rows_fixed<8>(w, base, offsets, n, acc);
    default:
      for (int64_t i = 0; i < n; ++i) zmm_axpy_f32(w[i], base + offsets[i], acc, dim);
  }
}

}  // namespace
}  // namespace frugal::x86
