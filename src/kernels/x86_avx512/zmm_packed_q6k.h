// 512-bit VNNI matmul over row-interleaved ("packed") Q6_K weights x Q8_K activations (kernels
// layer).
//
// The layout (16-row strips, 3,360 bytes per super-block: exactly 16 Q6_K blocks) is
// packed_k_layout.h's, packed at load time by packed_k::pack_rows_q6k.
//
// Arithmetic (the same for every tile size, so a token's result never depends on its batch): per
// (row r, token t) one lane; for each super-block, in order,
//   isum_g = sum_i level_g[i] * a_g[i] - 32 * sum_i a_g[i]     (exact int32; VNNI dpbusd of the
//            unsigned 6-bit levels with the signed activation bytes, broadcast 4 at a time)
//   sb     = sum_g scale_g * isum_g                            (exact int32, as the reference)
//   acc   += d_a * (d_w * sb)                                (f32, ref::vec_dot_k's operations)
// so every output equals the scalar reference bit for bit.
// Tiles: 16 rows x T tokens (8, 4, 2, 1): a group's levels are unpacked once for T tokens.
// Included only by the AVX-512 TU (anonymous namespace: see x86_common/x86_simd.h).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.h"
#include "kernels/packed_k_layout.h"
#include "kernels/x86_avx512/zmm_packed.h"
#include "kernels/x86_avx512/zmm_packed_q4k.h"
#include "quant/q8_k.h"

namespace frugal::x86 {
namespace {

using packed_k::kQ6GroupBytes;
using packed_k::kQ6QuantBytes;
using packed_k::kQ6ScaleBytes;
using packed_k::kQ6SuperBytes;
constexpr int64_t kQ6PrefetchBytes = 2048;  // ~10 groups ahead in the strip's stream

// A group's four chunks of unsigned levels (0..63), one byte per element, lane r = row r.
inline void unpack_q6k_group(const uint8_t* group, __m512i (&q)[4]) {
  const __m512i low4 = _mm512_set1_epi8(0x0f), bits45 = _mm512_set1_epi8(0x30);
  const __m512i l0 = _mm512_loadu_si512(group), l1 = _mm512_loadu_si512(group + 64);
  const __m512i h = _mm512_loadu_si512(group + 128);
  // 16-bit shifts: the masks drop the bits that crossed into the neighbouring byte.
  q[0] = _mm512_or_si512(_mm512_and_si512(l0, low4), _mm512_and_si512(_mm512_slli_epi16(h, 4), bits45));
  q[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l0, 4), low4), _mm512_and_si512(_mm512_slli_epi16(h, 2), bits45));
  q[2] = _mm512_or_si512(_mm512_and_si512(l1, low4), _mm512_and_si512(h, bits45));
  q[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l1, 4), low4), _mm512_and_si512(_mm512_srli_epi16(h, 2), bits45));
}

// One strip (16 rows) x T tokens starting at token0; args.act_block_sums: [k / 16, n_tokens] sums
// of each 16-element group's activation levels; args.act_block_scales: [k / 256, n_tokens] d.
template <int T>
void packed_q6k_tile(const MulMatArgs& args, const uint8_t* strip, int64_t n_sb, int64_t row0, int64_t token0,
                     __mmask16 row_mask) {
  __m512 acc[T];
  const uint8_t* act[T];  // token t's current super-block's levels
  start_packed_tile(args, token0, offsetof(BlockQ8_K, qs), acc, act);
  const int32_t* sums = args.act_block_sums + token0;
  const float* act_d = args.act_block_scales + token0;
  for (int64_t b = 0; b < n_sb; ++b) {
    const uint8_t* sb = strip + b * kQ6SuperBytes;
    __m512i sb_sum[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) sb_sum[t] = _mm512_setzero_si512();
    for (int g = 0; g < 16; ++g) {
      const uint8_t* group = sb + g * kQ6GroupBytes;
      // Decode streams each strip once: software prefetch keeps it from being latency-bound.
      for (int64_t line = 0; line < kQ6GroupBytes; line += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(group + kQ6PrefetchBytes + line), _MM_HINT_T0);
      }
      __m512i q[4];
      unpack_q6k_group(group, q);
      const __m512i scale = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + kQ6QuantBytes + 16 * g)));
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        __m512i isum = _mm512_set1_epi32(-32 * sums[g * args.n_tokens + t]);
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
          int32_t a4;
          std::memcpy(&a4, act[t] + 16 * g + 4 * c, sizeof(a4));
          isum = _mm512_dpbusd_epi32(isum, q[c], _mm512_set1_epi32(a4));
        }
        sb_sum[t] = _mm512_add_epi32(sb_sum[t], _mm512_mullo_epi32(isum, scale));
      }
    }
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kQ6QuantBytes + kQ6ScaleBytes)));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512 x = rounded(_mm512_mul_ps(rounded(_mm512_mul_ps(dw, _mm512_cvtepi32_ps(sb_sum[t]))), _mm512_set1_ps(act_d[t])));
      acc[t] = _mm512_add_ps(acc[t], x);
      act[t] += sizeof(BlockQ8_K);
    }
    sums += 16 * args.n_tokens;
    act_d += args.n_tokens;
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(args.out + (token0 + t) * args.out_row_stride + row0, row_mask, acc[t]);
}

// args.weights: the packed matrix; rows [row_begin, row_end) with row_begin a multiple of 16
// (tokens 64 at a time, all strips per chunk: drive_packed_strips).
inline void packed_q6k_mul_mat(const MulMatArgs& args) {
  const int64_t n_sb = args.k / 256;
  drive_packed_strips(args, n_sb * kQ6SuperBytes,
                      [&](auto tokens, const uint8_t* strip, int64_t row0, int64_t token0, __mmask16 mask) {
                        packed_q6k_tile<decltype(tokens)::value>(args, strip, n_sb, row0, token0, mask);
                      });
}

}  // namespace
}  // namespace frugal::x86
