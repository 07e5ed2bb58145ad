// AMX int8 prefill over packed Q4_K weights x Q8_K activations (kernels layer): the AMX table's
// mul_mat_packed for Q4_K. Same layout (packed_k_layout.h) and the same arithmetic as the VNNI
// kernel (zmm_packed_q4k.h) -- exact int32 sub-block sums, exact int32 scaling, ref's f32 steps --
// so its outputs equal the VNNI kernel's and ref's bit for bit; only who computes isum_j differs:
//   per strip, the 4-bit levels are unpacked once per token chunk into the tile B order
//     (per sub-block 8 rows of 64 bytes: row kk holds elements 4kk .. 4kk + 3 of the 16 rows);
//   per 16 tokens x 16 rows x sub-block, one TDPBSUD (signed activation bytes x unsigned levels,
//     K = 32) gives the 256 isum_j, four sub-blocks in flight in tmm0-3;
//   the int32 results are scaled by the rows' 6-bit scales in zmm registers (vpmulld) and the
//     mins / f32 steps are q4k_accumulate's.
// Fewer than 16 tokens left in a chunk run the VNNI tiles. Included only by the AVX-512 TU.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/x86_avx512/amx_tile_config.h"
#include "kernels/packed_k_layout.h"
#include "kernels/x86_avx512/zmm_packed.h"
#include "kernels/x86_avx512/zmm_packed_q4k.h"
#include "quant/q8_k.h"

#define FRUGAL_AMX_TARGET __attribute__((target("amx-tile,amx-int8")))

namespace frugal::x86 {
namespace {

constexpr int64_t kAmxTokens = 16;
constexpr int64_t kAmxLevelBytes = 8 * 64;  // one sub-block of 16 rows in B order

// Palette 1: tmm0-3 C (16 tokens x 16 rows int32), tmm4-5 A (16 tokens x 32 activation bytes),
// tmm6-7 B (8 rows x 64 bytes: 32 levels of 16 rows, 4 per row and lane).
FRUGAL_AMX_TARGET inline void amx_configure_q4k() {
  AmxTileConfig cfg;
  for (int i = 0; i < 4; ++i) cfg.colsb[i] = 64, cfg.rows[i] = 16;
  for (int i = 4; i < 6; ++i) cfg.colsb[i] = 32, cfg.rows[i] = 16;
  for (int i = 6; i < 8; ++i) cfg.colsb[i] = 64, cfg.rows[i] = 8;
  _tile_loadconfig(&cfg);
}

// A strip's levels (n_sb super-blocks) -> out: n_sb * 8 sub-blocks of kAmxLevelBytes in B order.
inline void unpack_q4k_strip(const uint8_t* strip, int64_t n_sb, uint8_t* out) {
  for (int64_t b = 0; b < n_sb; ++b) {
    for (int j = 0; j < 8; ++j) {
      __m512i w[8];
      Q4_0Packed::unpack(strip + b * packed_k::kQ4SuperBytes + j * packed_k::kQ4SubBytes, w);
      uint8_t* dst = out + (8 * b + j) * kAmxLevelBytes;
      for (int c = 0; c < 8; ++c) _mm512_storeu_si512(dst + 64 * c, w[c]);  // w[c]: elements 4c .. 4c + 3
    }
  }
}

// C tile `ct` += A (16 tokens' 32 activation bytes of sub-block j) x B (sub-block j's levels).
#define FRUGAL_AMX_Q4K_DP(ct, at, bt, j)                      \
  _tile_loadd(at, act + 32 * (j), args.act_row_bytes);       \
  _tile_loadd(bt, levels + (j) * kAmxLevelBytes, 64);         \
  _tile_zero(ct);                                             \
  _tile_dpbsud(ct, at, bt)

// One strip (16 rows) x 16 tokens from token0; levels: the strip's unpack_q4k_strip output.
FRUGAL_AMX_TARGET inline void amx_q4k_tile(const MulMatArgs& args, const uint8_t* strip, const uint8_t* levels,
                                           int64_t n_sb, int64_t row0, int64_t token0, __mmask16 row_mask) {
  using namespace packed_k;
  __m512 acc[kAmxTokens];  // [token] 16 rows
  for (auto& a : acc) a = _mm512_setzero_ps();
  alignas(64) int32_t c_out[4][kAmxTokens * 16];  // [sub-block in flight][token][row]
  const int64_t n = args.n_tokens;
  const uint8_t* act = static_cast<const uint8_t*>(args.acts) + token0 * args.act_row_bytes + offsetof(BlockQ8_K, qs);
  const int32_t* sums = args.act_block_sums + token0;
  const float* act_d = args.act_block_scales + token0;
  for (int64_t b = 0; b < n_sb; ++b) {
    const uint8_t* sb = strip + b * kQ4SuperBytes;
    const Q4kScales scales = unpack_q4k_scales(sb + kQ4QuantBytes);
    __m512i sb_sum[kAmxTokens];
    for (auto& s : sb_sum) s = _mm512_setzero_si512();
    for (int half = 0; half < 2; ++half) {
      FRUGAL_AMX_Q4K_DP(0, 4, 6, 4 * half);
      FRUGAL_AMX_Q4K_DP(1, 5, 7, 4 * half + 1);
      FRUGAL_AMX_Q4K_DP(2, 4, 6, 4 * half + 2);
      FRUGAL_AMX_Q4K_DP(3, 5, 7, 4 * half + 3);
      _tile_stored(0, c_out[0], 64);
      _tile_stored(1, c_out[1], 64);
      _tile_stored(2, c_out[2], 64);
      _tile_stored(3, c_out[3], 64);
#pragma GCC unroll 4
      for (int jj = 0; jj < 4; ++jj) {
        const __m512i scale = lane_byte(scales.sc[half], jj);
#pragma GCC unroll 16
        for (int t = 0; t < kAmxTokens; ++t) {
          const __m512i isum = _mm512_load_si512(c_out[jj] + 16 * t);
          sb_sum[t] = _mm512_add_epi32(sb_sum[t], _mm512_mullo_epi32(isum, scale));
        }
      }
    }
    __m512i min_pairs[4];
    q4k_min_pairs(scales, min_pairs);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kQ4DOffset)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kQ4DOffset + 2 * kRows)));
    for (int t = 0; t < kAmxTokens; ++t) acc[t] = q4k_accumulate(acc[t], sb_sum[t], min_pairs, dw, dmin, sums + t, n, act_d[t]);
    act += sizeof(BlockQ8_K);
    levels += 8 * kAmxLevelBytes;
    sums += 16 * n;
    act_d += n;
  }
  for (int t = 0; t < kAmxTokens; ++t) _mm512_mask_storeu_ps(args.out + (token0 + t) * args.out_row_stride + row0, row_mask, acc[t]);
}

#undef FRUGAL_AMX_Q4K_DP

// As packed_q4k_mul_mat (same arguments, same bits); calls of 16 tokens or more use AMX tiles.
FRUGAL_AMX_TARGET inline void amx_packed_q4k_mul_mat(const MulMatArgs& args) {
  if (args.n_tokens < kAmxTokens) return packed_q4k_mul_mat(args);
  const int64_t n_sb = args.k / 256;
  const int64_t strip_bytes = n_sb * packed_k::kQ4SuperBytes;
  thread_local std::vector<uint8_t> levels;  // one strip's levels in B order (k * 16 bytes)
  levels.resize(static_cast<size_t>(n_sb * 8 * kAmxLevelBytes));
  amx_configure_q4k();
  for (int64_t t0 = 0; t0 < args.n_tokens; t0 += kPackedTokenChunk) {
    const int64_t t1 = std::min(args.n_tokens, t0 + kPackedTokenChunk);
    for (int64_t row0 = args.row_begin; row0 < args.row_end; row0 += kStripRows) {
      const uint8_t* strip = static_cast<const uint8_t*>(args.weights) + row0 / kStripRows * strip_bytes;
      const auto mask = static_cast<__mmask16>((1u << std::min<int64_t>(kStripRows, args.row_end - row0)) - 1u);
      int64_t t = t0;
      if (t + kAmxTokens <= t1) unpack_q4k_strip(strip, n_sb, levels.data());
      for (; t + kAmxTokens <= t1; t += kAmxTokens) amx_q4k_tile(args, strip, levels.data(), n_sb, row0, t, mask);
      for (; t + 8 <= t1; t += 8) packed_q4k_tile<8>(args, strip, n_sb, row0, t, mask);
      if (t + 4 <= t1) packed_q4k_tile<4>(args, strip, n_sb, row0, t, mask), t += 4;
      if (t + 2 <= t1) packed_q4k_tile<2>(args, strip, n_sb, row0, t, mask), t += 2;
      if (t < t1) packed_q4k_tile<1>(args, strip, n_sb, row0, t, mask);
    }
  }
  _tile_release();  // the thread's tile state back to init (cheaper context switches)
}

}  // namespace
}  // namespace frugal::x86
