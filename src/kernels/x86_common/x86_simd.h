// x86 SIMD primitives and the per-format "unpack a block into int8 lanes" steps (kernels layer).
// Included only by x86_avx2/ and x86_avx512/ TUs, each compiled with its own ISA flags.
// Everything here sits in an anonymous namespace on purpose: each ISA's TU must get its own copy,
// compiled with its flags, so the linker can never merge an AVX-512 body into the AVX2 table.
// Inline helpers from shared headers (quant/k_scales.h) must stay fully inlined here: only
// *_kernel_table() may be an external symbol of an ISA object (check with `nm -C`).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "quant/k_scales.h"
#include "quant/q4_0.h"
#include "quant/q4_k.h"
#include "quant/q5_0.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"
#include "quant/q8_0.h"
#include "quant/q8_k.h"

namespace frugal::x86 {
namespace {

inline float load_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof(h));
  return _cvtsh_ss(h);
}

// Lanes [0, count) of a tail: all ones in the lanes to load / store.
inline __m256i tail_lanes(int64_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// Signed int8 x signed int8 over 32 lanes -> 8 int32 partial sums. The sign of w is moved onto a
// so the unsigned x signed multiply (maddubs / VNNI dpbusd) applies; |w| <= 128 and |a| <= 127
// keep maddubs' pairwise int16 sums below saturation (2 * 128 * 127 < 32767).
inline __m256i dot_i8(__m256i w, __m256i a) {
  const __m256i abs_w = _mm256_sign_epi8(w, w);
  const __m256i signed_a = _mm256_sign_epi8(a, w);
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), abs_w, signed_a);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(abs_w, signed_a), _mm256_set1_epi16(1));
#endif
}

// 16 bytes of nibbles -> 32 bytes: low nibbles in lanes 0-15, high nibbles in lanes 16-31.
inline __m256i split_nibbles(const uint8_t* p) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i mask = _mm_set1_epi8(0x0f);
  const __m128i lo = _mm_and_si128(raw, mask);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), mask);
  return _mm256_set_m128i(hi, lo);
}

// Bit i of `bits` -> byte i = 0xff or 0x00.
inline __m256i expand_bits(uint32_t bits) {
  const __m256i byte_of_bit = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                                 0x0202020202020202, 0x0303030303030303);
  const __m256i bit_in_byte = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int32_t>(bits)), byte_of_bit);
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit_in_byte), bit_in_byte);
}

// ---- Type-0 formats: unpack a block into 32 signed int8 lanes (element order). ----
struct Q4_0Simd {
  using Format = Q4_0;
  static __m256i unpack(const uint8_t* block) {
    return _mm256_sub_epi8(split_nibbles(block + offsetof(BlockQ4_0, qs)), _mm256_set1_epi8(8));
  }
};

struct Q5_0Simd {
  using Format = Q5_0;
  static __m256i unpack(const uint8_t* block) {
    uint32_t qh;
    std::memcpy(&qh, block + offsetof(BlockQ5_0, qh), sizeof(qh));
    const __m256i high = _mm256_and_si256(expand_bits(qh), _mm256_set1_epi8(0x10));
    const __m256i levels = _mm256_or_si256(split_nibbles(block + offsetof(BlockQ5_0, qs)), high);
    return _mm256_sub_epi8(levels, _mm256_set1_epi8(16));
  }
};

struct Q8_0Simd {
  using Format = Q8_0;
  static __m256i unpack(const uint8_t* block) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + offsetof(BlockQ8_0, qs)));
  }
};

// ---- K formats: unpack a super-block into unsigned levels plus per-chunk int16 scale vectors.
// value = d * scale_g * level - dmin * min_g over 16-element groups g (see quant/unpacked.h).
struct KBlockSimd {
  alignas(32) uint8_t q[256];           // unsigned levels, element order
  alignas(32) int16_t chunk_scale[8][16];  // chunk c (32 elements): 8 lanes of group 2c, 8 of 2c+1
  alignas(32) int16_t min[16];          // per group
  float d = 0.0f;
  float dmin = 0.0f;
};

inline void set_chunk_scales(KBlockSimd& u, const int16_t* group_scale) {
  for (int c = 0; c < 8; ++c) {
    const __m256i v = _mm256_set_m128i(_mm_set1_epi16(group_scale[2 * c + 1]), _mm_set1_epi16(group_scale[2 * c]));
    _mm256_store_si256(reinterpret_cast<__m256i*>(u.chunk_scale[c]), v);
  }
}

inline void store32(uint8_t* dst, __m256i v) { _mm256_store_si256(reinterpret_cast<__m256i*>(dst), v); }

// Shared by Q4_K/Q5_K: f16 d/dmin at the block start, then the packed 6-bit scales.
inline void unpack_k_header(const uint8_t* block, const uint8_t* packed_scales, KBlockSimd& u) {
  u.d = load_f16(block);
  u.dmin = load_f16(block + 2);
  uint8_t sc[kKSubBlocks], mn[kKSubBlocks];
  unpack_k_scales(packed_scales, sc, mn);
  int16_t group_scale[16];
  for (int g = 0; g < 16; ++g) {
    group_scale[g] = sc[g / 2];
    u.min[g] = mn[g / 2];
  }
  set_chunk_scales(u, group_scale);
}

struct Q4_KSimd {
  using Format = Q4_K;
  static constexpr bool kMinSharesScale = false;
  static void unpack(const uint8_t* block, KBlockSimd& u) {
    unpack_k_header(block, block + offsetof(BlockQ4_K, scales), u);
    const uint8_t* qs = block + offsetof(BlockQ4_K, qs);
    const __m256i mask = _mm256_set1_epi8(0x0f);
    for (int c = 0; c < 4; ++c) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
      store32(u.q + 64 * c, _mm256_and_si256(raw, mask));
      store32(u.q + 64 * c + 32, _mm256_and_si256(_mm256_srli_epi16(raw, 4), mask));
    }
  }
};

struct Q5_KSimd {
  using Format = Q5_K;
  static constexpr bool kMinSharesScale = false;
  static void unpack(const uint8_t* block, KBlockSimd& u) {
    unpack_k_header(block, block + offsetof(BlockQ5_K, scales), u);
    const uint8_t* qs = block + offsetof(BlockQ5_K, qs);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + offsetof(BlockQ5_K, qh)));
    const __m256i mask = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    for (int c = 0; c < 4; ++c) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
      // Per-byte bit extraction via 16-bit shifts: masking with 1 drops the bits that crossed bytes.
      const __m256i hi_lo = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c)), one);
      const __m256i hi_hi = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c + 1)), one);
      store32(u.q + 64 * c, _mm256_or_si256(_mm256_and_si256(raw, mask), _mm256_slli_epi16(hi_lo, 4)));
      store32(u.q + 64 * c + 32, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(raw, 4), mask),
                                                 _mm256_slli_epi16(hi_hi, 4)));
    }
  }
};

// Q6_K levels are kept unsigned (0..63); the offset 32 becomes min_g = 32 * scale_g with
// dmin = d, subtracted in int32 before scaling (kMinSharesScale) so nothing cancels in f32.
struct Q6_KSimd {
  using Format = Q6_K;
  static constexpr bool kMinSharesScale = true;
  static void unpack(const uint8_t* block, KBlockSimd& u) {
    u.d = load_f16(block + offsetof(BlockQ6_K, d));
    u.dmin = u.d;
    int16_t group_scale[16];
    for (int g = 0; g < 16; ++g) {
      group_scale[g] = static_cast<int8_t>(block[offsetof(BlockQ6_K, scales) + g]);
      u.min[g] = static_cast<int16_t>(32 * group_scale[g]);
    }
    set_chunk_scales(u, group_scale);
    const __m256i mask4 = _mm256_set1_epi8(0x0f), mask2 = _mm256_set1_epi8(3);
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = block + offsetof(BlockQ6_K, ql) + 64 * half;
      const __m256i ql_a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i ql_b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i qh = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(block + offsetof(BlockQ6_K, qh) + 32 * half));
      const __m256i low[4] = {_mm256_and_si256(ql_a, mask4), _mm256_and_si256(ql_b, mask4),
                              _mm256_and_si256(_mm256_srli_epi16(ql_a, 4), mask4),
                              _mm256_and_si256(_mm256_srli_epi16(ql_b, 4), mask4)};
      for (int part = 0; part < 4; ++part) {
        const __m256i high = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * part)), mask2);
        store32(u.q + 128 * half + 32 * part, _mm256_or_si256(low[part], _mm256_slli_epi16(high, 4)));
      }
    }
  }
};

}  // namespace
}  // namespace frugal::x86
