// Shared 512-bit helpers for the AVX-512 kernels (kernels layer): word-permute index vectors,
// masked prefix loads for ragged row ends, and the R x T tile driver. Included only by
// x86_avx512/ TUs (anonymous namespace: see x86_common/x86_simd.h for why).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "kernels/kernel_table.h"
#include "kernels/x86_common/tile_operands.h"
#include "kernels/x86_common/x86_simd.h"

namespace frugal::x86 {
namespace {

// 32 word indices for _mm512_permutexvar_epi16 / _mm512_permutex2var_epi16.
using WordIndex = std::array<int16_t, 32>;

inline __m512i load_index(const WordIndex& idx) { return _mm512_loadu_si512(idx.data()); }

// Loads the `n_bytes` (may be <= 0 or >= 64) readable bytes at p, zero-filling the rest; the masked
// load never touches the bytes past the mask, so a ragged row end cannot fault.
inline __m512i load_prefix(const uint8_t* p, int64_t n_bytes) {
  if (n_bytes >= 64) return _mm512_loadu_si512(p);
  if (n_bytes <= 0) return _mm512_setzero_si512();
  return _mm512_maskz_loadu_epi8((__mmask64{1} << n_bytes) - 1, p);
}

// Loads 64 bytes at p + offset; kTail: only the first `valid` bytes from p are readable.
template <bool kTail>
inline __m512i load_at(const uint8_t* p, int64_t offset, int64_t valid) {
  if constexpr (kTail) return load_prefix(p + offset, valid - offset);
  return _mm512_loadu_si512(p + offset);
}

// The zmm tiles address a MulMatArgs like every x86 tile.
using ZmmOperands = TileOperands;

// Drives Tile<R, T>::run(ctx, row0, token0) over [row_begin, row_end) x [token_begin, token_end):
// kRows-row strips (the weights stay in L1 while every token of the chunk passes over them), then
// ragged rows one at a time; left-over tokens of a strip in a 2-token tile, then singly. Decode
// (one token) runs kRows x 1 tiles: kRows weight streams at once.
template <template <int, int> class Tile, int kRows, int kTokens, typename Ctx>
void drive_tiles(const Ctx& ctx, int64_t row_begin, int64_t row_end, int64_t token_begin, int64_t token_end) {
  int64_t row = row_begin;
  for (; row + kRows <= row_end; row += kRows) {
    int64_t token = token_begin;
    for (; token + kTokens <= token_end; token += kTokens) Tile<kRows, kTokens>::run(ctx, row, token);
    // Left-over tokens (speculative verification runs 2-7 tokens): a 2-token tile still reads the
    // strip's weights once for both, instead of once per token.
    if constexpr (kTokens > 2) {
      if (token + 2 <= token_end) {
        Tile<kRows, 2>::run(ctx, row, token);
        token += 2;
      }
    }
    for (; token < token_end; ++token) Tile<kRows, 1>::run(ctx, row, token);
  }
  for (; row < row_end; ++row) {
    int64_t token = token_begin;
    for (; token + kTokens <= token_end; token += kTokens) Tile<1, kTokens>::run(ctx, row, token);
    for (; token < token_end; ++token) Tile<1, 1>::run(ctx, row, token);
  }
}

// A float/k-quant mul_mat: decode (fewer than 4 tokens) runs 4 x 1 tiles (4 weight streams per
// pass); prefill runs kRows x kTokens tiles.
template <template <int, int> class Tile, int kRows, int kTokens>
void mul_mat_tiles(const MulMatArgs& args) {
  const ZmmOperands ops{args};
  if (args.n_tokens < 4) {
    drive_tiles<Tile, 4, 1>(ops, args.row_begin, args.row_end, 0, args.n_tokens);
  } else {
    drive_tiles<Tile, kRows, kTokens>(ops, args.row_begin, args.row_end, 0, args.n_tokens);
  }
}

}  // namespace
}  // namespace frugal::x86
