// Vectorised exp and the two kernels built on it (kernels layer; included only by x86 ISA TUs,
// each compiled with its own flags — see x86_simd.h for why everything is in an anonymous namespace):
//   exp_shifted: x[i] = exp(x[i] - shift), returns the sum      (softmax numerators, attention)
//   silu_mul:    gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i]  (SwiGLU feed-forward)
// and the softmax shift beside them: max_f32 = max_i x[i].
// Eight f32 lanes (AVX2 + FMA; the AVX-512 table uses the same body). The last n % 8 elements go
// through the same arithmetic with masked loads and stores, so an element's result never depends
// on where it sits in the array or how long the array is (batch invariance).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86_common/x86_simd.h"

namespace frugal::x86 {
namespace {

// exp(x), 8 lanes. x = n ln2 + r with n = round(x log2 e) and |r| <= ln2 / 2 (ln2 split in two
// parts so n ln2 is exact); e^r by a degree-7 Taylor/minimax polynomial (the Cephes expf
// coefficients); 2^n built in the exponent bits. Within 2 ulp of the correctly rounded value on
// [-87.33, 88.37]; below -87.33 (a result under the smallest normal float) it returns 0, above
// 88.37 +inf; NaN stays NaN.
inline __m256 exp8(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.33654475f);
  const __m256 hi = _mm256_set1_ps(88.37626266f);
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // n in [-126, 127]: 2^n = (n + 127) << 23 as float bits.
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
  y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));  // NaN in, NaN out
}

// Sum: eight lane-wise partial sums in element order, then added across lanes.
float exp_shifted_x86(float* x, int64_t n, float shift) {
  const __m256 vs = _mm256_set1_ps(shift);
  __m256 sum = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs));
    _mm256_storeu_ps(x + i, e);
    sum = _mm256_add_ps(sum, e);
  }
  if (i < n) {
    const __m256i m = tail_lanes(n - i);
    // Masked-off lanes load 0 and become exp(-shift); they are neither stored nor summed.
    const __m256 e = exp8(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), vs));
    _mm256_maskstore_ps(x + i, m, e);
    sum = _mm256_add_ps(sum, _mm256_and_ps(e, _mm256_castsi256_ps(m)));
  }
  return hsum(sum);
}

// Eight lane-wise maxima, then across lanes; the tail's masked-off lanes hold x[0].
float max_x86(const float* x, int64_t n) {
  __m256 m = _mm256_set1_ps(x[0]);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
  if (i < n) m = _mm256_max_ps(m, _mm256_blendv_ps(_mm256_set1_ps(x[0]), _mm256_maskload_ps(x + i, tail_lanes(n - i)),
                                                   _mm256_castsi256_ps(tail_lanes(n - i))));
  const __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  const __m128 q = _mm_max_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_max_ss(q, _mm_shuffle_ps(q, q, 1)));
}

inline __m256 silu_mul8(__m256 g, __m256 u) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), u);
}

void silu_mul_x86(float* gate, const float* up, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(gate + i, silu_mul8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  }
  if (i < n) {
    const __m256i m = tail_lanes(n - i);
    _mm256_maskstore_ps(gate + i, m, silu_mul8(_mm256_maskload_ps(gate + i, m), _mm256_maskload_ps(up + i, m)));
  }
}

}  // namespace
}  // namespace frugal::x86
