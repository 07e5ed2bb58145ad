// 512-bit VNNI matmul over packed Q4_K weights x Q8_K activations (kernels layer). The layout
// (16-row strips, 2,304 bytes per super-block: exactly 16 Q4_K blocks) is packed_k_layout.h's.
//
// Arithmetic, per (row r, token t) one f32 lane; for each super-block, in order:
//   isum_j = sum_i level_j[i] * a_j[i]                   (exact int32; VNNI dpbusd of the unsigned
//            4-bit levels with the signed activation bytes broadcast 4 at a time; 32 elements)
//   sb     = sum_j scale_j * isum_j                        (exact int32)
//   ms     = sum_j min_j * (bsum_2j + bsum_2j+1)           (exact int32; dpwssd on word pairs)
//   acc   += (d_a * (d_w * sb)) - (d_a * (dmin_w * ms))    (f32, ref::vec_dot_k's operations)
// so every output equals the scalar reference bit for bit, whatever the tile size or batch.
// Tiles: 16 rows x T tokens (8, 4, 2, 1): a sub-block's levels are unpacked once for T tokens.
// Included only by the AVX-512 TU (anonymous namespace: see x86_common/x86_simd.h).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.h"
#include "kernels/packed_k_layout.h"
#include "kernels/x86_avx512/zmm_packed.h"
#include "quant/q8_k.h"

namespace frugal::x86 {
namespace {

constexpr int64_t kQ4kPrefetchBytes = 2048;  // 8 sub-blocks ahead in the strip's stream

// The three packed scale vectors of a super-block -> per lane (row), four 6-bit values per 32-bit
// lane, one per byte: sc[0] scales 0-3, sc[1] scales 4-7, mn[0] mins 0-3, mn[1] mins 4-7
// (quant/k_scales.h's unpacking, for 16 rows at once).
struct Q4kScales {
  __m512i sc[2], mn[2];
};

inline Q4kScales unpack_q4k_scales(const uint8_t* p) {
  const __m512i a = _mm512_loadu_si512(p), b = _mm512_loadu_si512(p + 64), c = _mm512_loadu_si512(p + 128);
  const __m512i low6 = _mm512_set1_epi8(0x3f), low4 = _mm512_set1_epi8(0x0f), low2 = _mm512_set1_epi8(0x03);
  Q4kScales s;
  s.sc[0] = _mm512_and_si512(a, low6);
  s.mn[0] = _mm512_and_si512(b, low6);
  // 32-bit shifts: the masks drop the bits that crossed from the neighbouring byte.
  s.sc[1] = _mm512_or_si512(_mm512_and_si512(c, low4), _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(a, 6), low2), 4));
  s.mn[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 4), low4),
                            _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(b, 6), low2), 4));
  return s;
}

// Byte j % 4 of each lane of v (the value of sub-block j) as int32.
inline __m512i lane_byte(__m512i v, int byte) {
  return _mm512_and_si512(_mm512_srli_epi32(v, static_cast<unsigned>(8 * byte)), _mm512_set1_epi32(0xff));
}

// v, rounded: the compiler may not fuse the product that made it into a following add (GCC
// contracts vector multiplies and adds into FMAs in C++), so the f32 steps stay ref's.
inline __m512 rounded(__m512 v) {
  __asm__("" : "+v"(v));
  return v;
}

// Two int16 words (lo, hi) as one int32 for a dpwssd broadcast.
inline int32_t word_pair(int32_t lo, int32_t hi) {
  return static_cast<int32_t>((static_cast<uint32_t>(lo) & 0xffffu) | static_cast<uint32_t>(hi) << 16);
}

// Mins: lane words (min_4h, min_4h+2) and (min_4h+1, min_4h+3), to meet the activation sums of the
// same sub-blocks two per dpwssd.
inline void q4k_min_pairs(const Q4kScales& s, __m512i (&pairs)[4]) {
  const __m512i even_words = _mm512_set1_epi32(0x00ff00ff);
  pairs[0] = _mm512_and_si512(s.mn[0], even_words);
  pairs[1] = _mm512_and_si512(_mm512_srli_epi32(s.mn[0], 8), even_words);
  pairs[2] = _mm512_and_si512(s.mn[1], even_words);
  pairs[3] = _mm512_and_si512(_mm512_srli_epi32(s.mn[1], 8), even_words);
}

// One token's super-block into its 16 rows' accumulator: sb_sum = sum_j scale_j * isum_j per row;
// sums[(16 b + g) * n] its group sums (b = this super-block); ad its d.
inline __m512 q4k_accumulate(__m512 acc, __m512i sb_sum, const __m512i (&min_pairs)[4], __m512 dw, __m512 dmin,
                             const int32_t* sums, int64_t n, float ad_scalar) {
  int32_t bsum[8];  // sub-block j's activation level sum
  for (int j = 0; j < 8; ++j) bsum[j] = sums[(2 * j) * n] + sums[(2 * j + 1) * n];
  __m512i ms = _mm512_dpwssd_epi32(_mm512_setzero_si512(), min_pairs[0], _mm512_set1_epi32(word_pair(bsum[0], bsum[2])));
  ms = _mm512_dpwssd_epi32(ms, min_pairs[1], _mm512_set1_epi32(word_pair(bsum[1], bsum[3])));
  ms = _mm512_dpwssd_epi32(ms, min_pairs[2], _mm512_set1_epi32(word_pair(bsum[4], bsum[6])));
  ms = _mm512_dpwssd_epi32(ms, min_pairs[3], _mm512_set1_epi32(word_pair(bsum[5], bsum[7])));
  const __m512 ad = _mm512_set1_ps(ad_scalar);
  const __m512 x = rounded(_mm512_mul_ps(rounded(_mm512_mul_ps(dw, _mm512_cvtepi32_ps(sb_sum))), ad));
  const __m512 y = rounded(_mm512_mul_ps(rounded(_mm512_mul_ps(dmin, _mm512_cvtepi32_ps(ms))), ad));
  return _mm512_add_ps(acc, _mm512_sub_ps(x, y));
}

// One strip (16 rows) x T tokens starting at token0; args.act_block_sums: [k / 16, n_tokens] sums
// of each 16-element group's activation levels; args.act_block_scales: [k / 256, n_tokens] d.
template <int T>
void packed_q4k_tile(const MulMatArgs& args, const uint8_t* strip, int64_t n_sb, int64_t row0, int64_t token0,
                     __mmask16 row_mask) {
  using namespace packed_k;
  __m512 acc[T];
  const uint8_t* act[T];  // token t's current super-block's levels
  start_packed_tile(args, token0, offsetof(BlockQ8_K, qs), acc, act);
  const int32_t* sums = args.act_block_sums + token0;
  const float* act_d = args.act_block_scales + token0;
  const int64_t n = args.n_tokens;
  for (int64_t b = 0; b < n_sb; ++b) {
    const uint8_t* sb = strip + b * kQ4SuperBytes;
    const Q4kScales scales = unpack_q4k_scales(sb + kQ4QuantBytes);
    __m512i sb_sum[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) sb_sum[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      const uint8_t* sub = sb + j * kQ4SubBytes;
      // Decode streams each strip once: software prefetch keeps it from being latency-bound.
      for (int64_t line = 0; line < kQ4SubBytes; line += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(sub + kQ4kPrefetchBytes + line), _MM_HINT_T0);
      }
      __m512i w[8];
      Q4_0Packed::unpack(sub, w);  // the same nibble pairs as a Q4_0 block: w[c] elements 4c.., w[c + 4] 16 + 4c..
      const __m512i scale = lane_byte(scales.sc[j / 4], j % 4);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        __m512i isum = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int c = 0; c < 8; ++c) {
          int32_t a4;
          std::memcpy(&a4, act[t] + 32 * j + Q4_0Packed::act_offset(c), sizeof(a4));
          isum = _mm512_dpbusd_epi32(isum, w[c], _mm512_set1_epi32(a4));
        }
        sb_sum[t] = _mm512_add_epi32(sb_sum[t], _mm512_mullo_epi32(isum, scale));
      }
    }
    __m512i min_pairs[4];
    q4k_min_pairs(scales, min_pairs);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kQ4DOffset)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kQ4DOffset + 2 * kRows)));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      acc[t] = q4k_accumulate(acc[t], sb_sum[t], min_pairs, dw, dmin, sums + t, n, act_d[t]);
      act[t] += sizeof(BlockQ8_K);
    }
    sums += 16 * n;
    act_d += n;
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(args.out + (token0 + t) * args.out_row_stride + row0, row_mask, acc[t]);
}

// args.weights: the packed matrix; rows [row_begin, row_end) with row_begin a multiple of 16
// (tokens 64 at a time, all strips per chunk: drive_packed_strips).
inline void packed_q4k_mul_mat(const MulMatArgs& args) {
  const int64_t n_sb = args.k / 256;
  drive_packed_strips(args, n_sb * packed_k::kQ4SuperBytes,
                      [&](auto tokens, const uint8_t* strip, int64_t row0, int64_t token0, __mmask16 mask) {
                        packed_q4k_tile<decltype(tokens)::value>(args, strip, n_sb, row0, token0, mask);
                      });
}

}  // namespace
}  // namespace frugal::x86
