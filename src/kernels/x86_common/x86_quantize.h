// x86 activation quantizers Q8_0, Q8_K and F16 (kernels layer), bit-exact with the ref ones in
// quant/ (same rounding rules). Included only by ISA TUs; see x86_simd.h for the namespace.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/x86_common/x86_simd.h"

namespace frugal::x86 {
namespace {

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// roundf semantics (halfway cases away from zero), exact: truncate, then step by one where the
// dropped fraction is >= 0.5.
inline __m256 round_half_away(__m256 v) {
  const __m256 truncated = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = abs_ps(_mm256_sub_ps(v, truncated));
  const __m256 step = _mm256_or_ps(_mm256_and_ps(v, _mm256_set1_ps(-0.0f)), _mm256_set1_ps(1.0f));
  const __m256 need = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  return _mm256_add_ps(truncated, _mm256_and_ps(need, step));
}

// Four vectors of 8 int32 (each in [-128, 127]) -> 32 int8 in element order.
inline __m256i pack_i32x32_to_i8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b);
  const __m256i cd = _mm256_packs_epi32(c, d);
  const __m256i abcd = _mm256_packs_epi16(ab, cd);
  // packs interleave 128-bit lanes: dwords come out as a0 b0 c0 d0 a1 b1 c1 d1.
  return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// x[k] -> Q8_0 blocks; ggml's reference rounding (see quant/q8_0.h).
void quantize_row_q8_0(const float* x, void* y, int64_t k) {
  auto* out = static_cast<uint8_t*>(y);
  for (int64_t b = 0; b < k / 32; ++b, out += sizeof(BlockQ8_0)) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm256_loadu_ps(x + 32 * b + 8 * j);
      amax = _mm256_max_ps(amax, abs_ps(v[j]));
    }
    const float d = hmax(amax) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t d_f16 = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
    std::memcpy(out, &d_f16, sizeof(d_f16));
    __m256i q[4];
    for (int j = 0; j < 4; ++j) q[j] = _mm256_cvtps_epi32(round_half_away(_mm256_mul_ps(v[j], _mm256_set1_ps(id))));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + offsetof(BlockQ8_0, qs)),
                        pack_i32x32_to_i8(q[0], q[1], q[2], q[3]));
  }
}

// x[k] -> Q8_K blocks; ggml's reference rounding (see quant/q8_k.h).
void quantize_row_q8_k(const float* x, void* y, int64_t k) {
  auto* out = static_cast<uint8_t*>(y);
  for (int64_t b = 0; b < k / 256; ++b, out += sizeof(BlockQ8_K)) {
    const float* xb = x + 256 * b;
    __m256 amax_v = _mm256_setzero_ps();
    for (int j = 0; j < 32; ++j) amax_v = _mm256_max_ps(amax_v, abs_ps(_mm256_loadu_ps(xb + 8 * j)));
    const float amax = hmax(amax_v);
    if (amax == 0.0f) {
      std::memset(out, 0, sizeof(BlockQ8_K));
      continue;
    }
    int first = 0;  // the reference keeps the first element of largest magnitude, sign included
    while (first < 255 && std::fabs(xb[first]) != amax) ++first;  // bounded if x holds NaN
    const float iscale = -127.0f / xb[first];
    const __m256 scale = _mm256_set1_ps(iscale);
    const __m256i max_q = _mm256_set1_epi32(127);
    int16_t bsums[16];
    for (int c = 0; c < 8; ++c) {  // 32 elements per step
      __m256i q[4];
      for (int j = 0; j < 4; ++j) {
        // cvtps_epi32 rounds to nearest even under the default MXCSR mode, as nearest_int does.
        q[j] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + 32 * c + 8 * j), scale)), max_q);
      }
      bsums[2 * c] = static_cast<int16_t>(hsum(_mm256_add_epi32(q[0], q[1])));
      bsums[2 * c + 1] = static_cast<int16_t>(hsum(_mm256_add_epi32(q[2], q[3])));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + offsetof(BlockQ8_K, qs) + 32 * c),
                          pack_i32x32_to_i8(q[0], q[1], q[2], q[3]));
    }
    std::memcpy(out + offsetof(BlockQ8_K, bsums), bsums, sizeof(bsums));
    const float d = 1.0f / iscale;
    std::memcpy(out + offsetof(BlockQ8_K, d), &d, sizeof(d));
  }
}

// x[k] -> F16, round to nearest even.
void quantize_row_f16(const float* x, void* y, int64_t k) {
  auto* out = static_cast<uint8_t*>(y);
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < k; ++i) {
    const uint16_t h = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
    std::memcpy(out + 2 * i, &h, sizeof(h));
  }
}

}  // namespace
}  // namespace frugal::x86
