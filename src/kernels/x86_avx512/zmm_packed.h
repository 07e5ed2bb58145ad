// 512-bit VNNI matmul over row-interleaved ("packed") Q4_0 / Q8_0 weights (kernels layer).
//
// Packed layout (made once at load time by pack_rows): rows are taken 16 at a time (a "strip"; the
// last strip is padded with zero rows). A strip stores, for each 32-element block b of the row:
//   quants: kQuantBytes bytes, as zmm vectors whose 32-bit lane r holds 4 quant bytes of row r
//           (Q4_0: 4 vectors, vector c = qs_r[4c..4c+3], low nibbles elements 4c.., high nibbles
//           16+4c..; Q8_0: 8 vectors, vector c = qs_r[4c..4c+3] + 128, stored unsigned);
// followed by all blocks' scales: 16 f16 d per block. Bytes per strip equal 16 original rows, so
// decode reads exactly as many bytes as before.
//
// Arithmetic (the same for every tile size, so a token's result never depends on its batch):
// per (row r, token t) one f32 lane, and for each block b in order
//   isum = sum_i level_rb[i] * a_tb[i] - offset * sum_i a_tb[i]      (exact int32, VNNI dpbusd:
//          unsigned weight levels x signed activation bytes broadcast 4 at a time)
//   acc  = fma(float(isum) * d_a(t, b), d_w(r, b), acc)
// Tiles: 16 rows x T tokens (T = 8, then 4, 2, 1): per block the weights are unpacked once and used
// by T tokens; T accumulators + T running sums + 8 weight vectors stay in registers.
// Included only by the AVX-512 TU (anonymous namespace: see x86_common/x86_simd.h).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/kernel_table.h"
#include "quant/q4_0.h"
#include "quant/q8_0.h"

namespace frugal::x86 {
namespace {

constexpr int64_t kStripRows = kPackedRowGroup;  // the table's row group
constexpr int64_t kScaleBytes = kStripRows * 2;  // 16 f16 per block
constexpr int64_t kPrefetchBlocks = 8;            // 2-4 KiB ahead in a strip

struct Q4_0Packed {
  using Block = BlockQ4_0;
  static constexpr int32_t kOffset = 8;
  static constexpr int64_t kQuantBytes = 4 * 64;
  // Stored byte for quant byte qs[j]: the nibble pair as it is.
  static uint8_t stored(uint8_t q) { return q; }
  static void unpack(const uint8_t* q, __m512i (&w)[8]) {
    const __m512i mask = _mm512_set1_epi8(0x0f);
    for (int c = 0; c < 4; ++c) {
      const __m512i x = _mm512_loadu_si512(q + 64 * c);
      w[c] = _mm512_and_si512(x, mask);
      w[c + 4] = _mm512_and_si512(_mm512_srli_epi16(x, 4), mask);
    }
  }
  // Activation bytes matching weight vector c: elements 4c.. (c < 4), 16 + 4(c - 4).. (c >= 4).
  static constexpr int act_offset(int c) { return c < 4 ? 4 * c : 16 + 4 * (c - 4); }
};

struct Q8_0Packed {
  using Block = BlockQ8_0;
  static constexpr int32_t kOffset = 128;
  static constexpr int64_t kQuantBytes = 8 * 64;
  // Stored byte for the int8 level q (its two's-complement byte): q + 128, unsigned.
  static uint8_t stored(uint8_t q) { return static_cast<uint8_t>(q ^ 0x80); }  // int8 q -> q + 128
  static void unpack(const uint8_t* q, __m512i (&w)[8]) {
    for (int c = 0; c < 8; ++c) w[c] = _mm512_loadu_si512(q + 64 * c);
  }
  static constexpr int act_offset(int c) { return 4 * c; }
};

template <typename P>
int64_t packed_strip_bytes(int64_t k) {
  return (k / 32) * (P::kQuantBytes + kScaleBytes);
}

template <typename P>
int64_t packed_size(int64_t n_rows, int64_t k) {
  return (n_rows + kStripRows - 1) / kStripRows * packed_strip_bytes<P>(k);
}

// rows: [n_rows] rows of k elements in P's block format -> out: packed_size(n_rows, k) bytes.
template <typename P>
void pack_rows(const void* rows, int64_t n_rows, int64_t k, void* out) {
  using Block = typename P::Block;
  const int64_t n_blocks = k / 32;
  const int64_t row_bytes = n_blocks * static_cast<int64_t>(sizeof(Block));
  const int64_t strip_bytes = packed_strip_bytes<P>(k);
  for (int64_t s = 0; s * kStripRows < n_rows; ++s) {
    uint8_t* quants = static_cast<uint8_t*>(out) + s * strip_bytes;
    uint16_t* scales = reinterpret_cast<uint16_t*>(quants + n_blocks * P::kQuantBytes);
    for (int64_t b = 0; b < n_blocks; ++b) {
      // Byte access only: GGUF rows need not be aligned for Block's f16 member.
      const uint8_t* blocks[kStripRows];
      for (int64_t r = 0; r < kStripRows; ++r) {
        const int64_t row = s * kStripRows + r;
        blocks[r] = row < n_rows ? static_cast<const uint8_t*>(rows) + row * row_bytes +
                                       b * static_cast<int64_t>(sizeof(Block))
                                 : nullptr;
        uint16_t d = 0;
        if (blocks[r] != nullptr) std::memcpy(&d, blocks[r] + offsetof(Block, d), sizeof(d));
        std::memcpy(scales + b * kStripRows + r, &d, sizeof(d));
      }
      // Vector c, lane r: quant bytes qs[4c..4c+3] of row r (zero for a padding row).
      uint8_t* q = quants + b * P::kQuantBytes;
      for (int64_t c = 0; c < P::kQuantBytes / 64; ++c) {
        for (int64_t r = 0; r < kStripRows; ++r) {
          for (int64_t i = 0; i < 4; ++i) {
            q[64 * c + 4 * r + i] =
                blocks[r] != nullptr ? P::stored(blocks[r][offsetof(Block, qs) + static_cast<size_t>(4 * c + i)]) : 0;
          }
        }
      }
    }
  }
}

// A tile's start: T zeroed accumulators, and act[t] at token (token0 + t)'s first levels (qs_offset
// bytes into its activation row).
template <int T>
inline void start_packed_tile(const MulMatArgs& args, int64_t token0, size_t qs_offset, __m512 (&acc)[T],
                              const uint8_t* (&act)[T]) {
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    acc[t] = _mm512_setzero_ps();
    act[t] = static_cast<const uint8_t*>(args.acts) + (token0 + t) * args.act_row_bytes + qs_offset;
  }
}

// 16 rows (one strip) x T tokens starting at token0. Loop order inside a block: weight vector c
// outer, token inner, so T independent dpbusd chains are in flight (dpbusd has a 5-cycle latency).
template <typename P, int T>
void packed_tile(const MulMatArgs& args, const uint8_t* strip, int64_t n_blocks, int64_t row0, int64_t token0,
                 __mmask16 row_mask) {
  const uint8_t* scales = strip + n_blocks * P::kQuantBytes;
  __m512 acc[T];
  const uint8_t* act[T];  // token t's current block's levels
  start_packed_tile(args, token0, offsetof(BlockQ8_0, qs), acc, act);
  // [n_blocks, n_tokens] (block-major: a block's T sums and scales are adjacent).
  const int32_t* sums = args.act_block_sums + token0;
  const float* act_d = args.act_block_scales + token0;
  for (int64_t b = 0; b < n_blocks; ++b) {
    // Software prefetch kPrefetchBlocks ahead (quants and, every other block, the scales' line):
    // decode streams each strip once and the hardware prefetcher alone leaves it latency-bound.
    const uint8_t* ahead = strip + (b + kPrefetchBlocks) * P::kQuantBytes;
    for (int64_t line = 0; line < P::kQuantBytes; line += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + line), _MM_HINT_T0);
    if ((b & 1) == 0) _mm_prefetch(reinterpret_cast<const char*>(scales + (b + kPrefetchBlocks) * kScaleBytes), _MM_HINT_T0);
    __m512i w[8];
    P::unpack(strip + b * P::kQuantBytes, w);
    const __m512 wd = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(scales + b * kScaleBytes)));
    __m512i isum[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) isum[t] = _mm512_set1_epi32(-P::kOffset * sums[t]);
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) {
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        int32_t a4;
        std::memcpy(&a4, act[t] + P::act_offset(c), sizeof(a4));
        isum[t] = _mm512_dpbusd_epi32(isum[t], w[c], _mm512_set1_epi32(a4));
      }
    }
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512 scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_set1_ps(act_d[t]));
      acc[t] = _mm512_fmadd_ps(scaled, wd, acc[t]);
      act[t] += sizeof(BlockQ8_0);
    }
    sums += args.n_tokens;
    act_d += args.n_tokens;
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    _mm512_mask_storeu_ps(args.out + (token0 + t) * args.out_row_stride + row0, row_mask, acc[t]);
  }
}

// args.weights: the packed matrix; rows [row_begin, row_end) with row_begin a multiple of 16;
// args.act_block_sums / act_block_scales: [k / 32, n_tokens], per block and token, the sum of the
// Q8_0 levels and d.
// Tokens are taken kPackedTokenChunk at a time, all strips of the call per chunk: the chunk's
// activations (64 x k bytes) stay in L2 while the strips stream, instead of every strip sweeping
// all tokens' activations (4 MiB for 512 tokens of an 8192-wide FFN row) from L3.
constexpr int64_t kPackedTokenChunk = 64;

// The loop every packed layout shares: per token chunk, every 16-row strip of [row_begin, row_end)
// with tiles of 8, then 4, 2 and 1 tokens. run_tile(std::integral_constant<int, T>, strip, row0,
// token0, row_mask) runs one strip x T tokens; strip_bytes: bytes per strip in the layout.
template <typename RunTile>
void drive_packed_strips(const MulMatArgs& args, int64_t strip_bytes, const RunTile& run_tile) {
  for (int64_t t0 = 0; t0 < args.n_tokens; t0 += kPackedTokenChunk) {
    const int64_t t1 = std::min(args.n_tokens, t0 + kPackedTokenChunk);
    for (int64_t row0 = args.row_begin; row0 < args.row_end; row0 += kStripRows) {
      const uint8_t* strip = static_cast<const uint8_t*>(args.weights) + row0 / kStripRows * strip_bytes;
      const int64_t rows = std::min<int64_t>(kStripRows, args.row_end - row0);
      const auto mask = static_cast<__mmask16>((1u << rows) - 1u);
      int64_t t = t0;
      for (; t + 8 <= t1; t += 8) run_tile(std::integral_constant<int, 8>{}, strip, row0, t, mask);
      if (t + 4 <= t1) {
        run_tile(std::integral_constant<int, 4>{}, strip, row0, t, mask);
        t += 4;
      }
      if (t + 2 <= t1) {
        run_tile(std::integral_constant<int, 2>{}, strip, row0, t, mask);
        t += 2;
      }
      if (t < t1) run_tile(std::integral_constant<int, 1>{}, strip, row0, t, mask);
    }
  }
}

template <typename P>
void packed_mul_mat(const MulMatArgs& args) {
  const int64_t n_blocks = args.k / 32;
  drive_packed_strips(args, packed_strip_bytes<P>(args.k),
                      [&](auto tokens, const uint8_t* strip, int64_t row0, int64_t token0, __mmask16 mask) {
                        packed_tile<P, decltype(tokens)::value>(args, strip, n_blocks, row0, token0, mask);
                      });
}

}  // namespace
}  // namespace frugal::x86
