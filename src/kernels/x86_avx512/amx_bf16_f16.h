// AMX-BF16 prefill over packed F16 weights (kernels layer): mul_mat_packed for F16 when the op
// passes bf16 activation planes (MulMatArgs::act_bf16_hi / act_bf16_lo; see ref/ref_bf16_split.h).
//
// Weights stay in the AVX-512 packed F16 layout (zmm_packed_f16.h: per 16-row strip, per element,
// the 16 rows' halves), so the AMX path costs no memory. Per call they are converted, one strip
// pair x kAmxKc elements at a time, into tile-B order in a thread-local buffer: per 32-element k
// tile, 16 rows of 64 bytes, row p holding elements (2p, 2p+1) of the 16 strip rows as bf16 pairs
// (the pair layout TDPBF16PS reads), as hi = bf16(w) and lo = w - hi (exact: F16 has 11 significant
// bits). Activations arrive already split (hi, lo: tile-ordered planes, ref::split_bf16_tiles: each
// A tile one contiguous KiB, so a tile load touches 16 cache lines of one or two pages).
//
// Arithmetic: C (16 tokens x 16 rows, f32) += A_hi x B_hi + A_hi x B_lo + A_lo x B_hi per k tile
// (bf16x3), or A_hi x B_hi only (bf16x1, act_bf16_lo == nullptr). Every bf16 product is exact;
// TDPBF16PS sums pairs into f32 (its own order), so results differ from the FMA kernel in the last
// bits of an f32 sum (bf16x3: also the dropped wl*al, <= 2^-16 |w a|).
// Blocking (2 MiB L2 per core): tokens in blocks of kAmxTb, rows of kAmxRb, k in chunks of kAmxKc;
// the C tiles of a token block x row block live in a thread-local f32 buffer (tile order) across
// the k chunks, a 2 x 2 tile block (32 tokens x 32 rows) per inner step (tmm0-3 C, tmm4-5 A,
// tmm6-7 B). Included only by the AVX-512 TU; called only where cpu_features grants AMX-BF16.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/x86_avx512/amx_tile_config.h"
#include "kernels/x86_avx512/zmm_packed_f16.h"

#define FRUGAL_AMX_BF16_TARGET __attribute__((target("amx-tile,amx-bf16")))

namespace frugal::x86 {
namespace {

constexpr int64_t kAmxTile = 16;        // tokens or rows per tile
constexpr int64_t kAmxKTile = 32;       // k elements per tile
constexpr int64_t kAmxTileBytes = 1024;
constexpr int64_t kAmxKc = 256;         // k elements per chunk (B buffer: 2 strips x 2 planes x 8 KiB)
constexpr int64_t kAmxTb = 384;         // tokens per block (A chunk 384 x 256 x 4 B = 384 KiB)
constexpr int64_t kAmxRb = 128;         // rows per block (C buffer 384 x 128 x 4 B = 192 KiB)

FRUGAL_AMX_BF16_TARGET inline void amx_configure_bf16() {
  AmxTileConfig cfg;
  for (int i = 0; i < 8; ++i) cfg.colsb[i] = 64, cfg.rows[i] = 16;
  _tile_loadconfig(&cfg);
}

// f32 lanes -> the same values rounded to bf16 (nearest even), still as f32 bit patterns.
inline __m512i bf16_rne_f32bits(__m512i bits) {
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(0x7fff)), odd);
  return _mm512_and_si512(rounded, _mm512_set1_epi32(static_cast<int>(0xffff0000u)));
}

// Two f32 vectors (element 2p and 2p+1 of 16 rows; low 16 bits zero) -> 16 bf16 pairs.
inline __m512i bf16_pairs(__m512i even, __m512i odd) {
  return _mm512_or_si512(odd, _mm512_srli_epi32(even, 16));
}

// Tokens [t_begin, t_end) of x [n, k] -> tile-ordered hi / lo planes (lo may be null), bit-equal
// to ref::split_bf16_tiles.
inline void split_bf16_zmm(const float* x, int64_t k, int64_t t_begin, int64_t t_end, uint16_t* hi, uint16_t* lo) {
  for (int64_t t = t_begin; t < t_end; ++t) {
    for (int64_t i = 0; i < k; i += 16) {
      const int64_t at = ((t / 16) * (k / 32) + i / 32) * 512 + (t % 16) * 32 + i % 32;
      const __m512 v = _mm512_loadu_ps(x + t * k + i);
      const __m512i h = bf16_rne_f32bits(_mm512_castps_si512(v));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi + at), _mm512_cvtepi32_epi16(_mm512_srli_epi32(h, 16)));
      if (lo != nullptr) {
        const __m512i l = bf16_rne_f32bits(_mm512_castps_si512(_mm512_sub_ps(v, _mm512_castsi512_ps(h))));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo + at), _mm512_cvtepi32_epi16(_mm512_srli_epi32(l, 16)));
      }
    }
  }
}

// Elements [k0, k0 + kc) of one packed F16 strip -> kc / 32 B tiles per plane (hi, then lo at
// + kc / 32 tiles; lo skipped when null).
inline void amx_convert_strip(const uint8_t* strip, int64_t k0, int64_t kc, uint8_t* hi, uint8_t* lo) {
  for (int64_t p = 0; p < kc / 2; ++p) {
    const uint8_t* src = strip + (k0 + 2 * p) * kF16ElemBytes;
    const __m512 e0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src)));
    const __m512 e1 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + kF16ElemBytes)));
    const __m512i h0 = bf16_rne_f32bits(_mm512_castps_si512(e0));
    const __m512i h1 = bf16_rne_f32bits(_mm512_castps_si512(e1));
    _mm512_store_si512(hi + p * 64, bf16_pairs(h0, h1));
    if (lo != nullptr) {
      const __m512 l0 = _mm512_sub_ps(e0, _mm512_castsi512_ps(h0));  // exact, <= 3 significant bits
      const __m512 l1 = _mm512_sub_ps(e1, _mm512_castsi512_ps(h1));
      _mm512_store_si512(lo + p * 64, bf16_pairs(_mm512_castps_si512(l0), _mm512_castps_si512(l1)));
    }
  }
}

// C tiles (tile order in `c`: [token tile][strip] 1 KiB each, token-tile stride c_stride tiles)
// += the k chunk, for 2 token tiles x 2 strips from tt / s. a_hi / a_lo: the chunk's first element
// of token tt * 16; b: the buffer of amx_convert_strip for strips s, s + 1 (hi, lo per strip).
struct AmxARows {
  const uint16_t* hi[2];  // the two token tiles' first tile of the chunk (tiles of one token tile adjacent)
  const uint16_t* lo[2];  // null: bf16x1
};

FRUGAL_AMX_BF16_TARGET inline void amx_bf16_block(float* c, int64_t c_stride, bool first, const AmxARows& a,
                                                  const uint8_t* b0, const uint8_t* b1, int64_t plane_bytes,
                                                  int64_t n_kt) {
  const CTileBlock<float> block(c, c_stride);
  block.load_or_zero(first);
  for (int64_t kt = 0; kt < n_kt; ++kt) {
    _tile_loadd(4, a.hi[0] + 512 * kt, 64);
    _tile_loadd(5, a.hi[1] + 512 * kt, 64);
    _tile_loadd(6, b0 + kt * kAmxTileBytes, 64);
    _tile_loadd(7, b1 + kt * kAmxTileBytes, 64);
    _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    if (a.lo[0] != nullptr) {
      _tile_loadd(6, b0 + plane_bytes + kt * kAmxTileBytes, 64);
      _tile_loadd(7, b1 + plane_bytes + kt * kAmxTileBytes, 64);
      _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
      _tile_loadd(4, a.lo[0] + 512 * kt, 64);
      _tile_loadd(5, a.lo[1] + 512 * kt, 64);
      _tile_loadd(6, b0 + kt * kAmxTileBytes, 64);
      _tile_loadd(7, b1 + kt * kAmxTileBytes, 64);
      _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
    }
  }
  block.store();
}

// As packed_f16_mul_mat over the same packed weights, with args.act_bf16_hi (and _lo for bf16x3)
// in place of F16 activations. Needs k % 32 == 0 and the planes padded to whole 16-token tiles
// (zero rows); rows [row_begin, row_end), row_begin a multiple of 16.
FRUGAL_AMX_BF16_TARGET inline void amx_bf16_f16_mul_mat(const MulMatArgs& args) {
  const int64_t k = args.k;
  const int64_t strip_bytes = k * kF16ElemBytes;
  const bool x3 = args.act_bf16_lo != nullptr;
  const int64_t n_tiles_total = (args.n_tokens + kAmxTile - 1) / kAmxTile;
  const int64_t n_strips_total = (args.row_end - args.row_begin + kAmxTile - 1) / kAmxTile;
  // B: 2 strips x 2 planes x kAmxKc/32 tiles; C: [token tiles of a block (even)][strips of a block (even)].
  const int64_t plane_bytes = kAmxKc / kAmxKTile * kAmxTileBytes;
  const int64_t tb_tiles = kAmxTb / kAmxTile, rb_strips = kAmxRb / kAmxTile;  // both even
  const int64_t b_bytes = 4 * plane_bytes, c_bytes = tb_tiles * rb_strips * kAmxTileBytes;
  thread_local std::vector<uint8_t> scratch;  // B then C, 64-byte aligned; grows once per thread
  scratch.resize(static_cast<size_t>(b_bytes + c_bytes + 64));
  auto* b = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
  auto* c = reinterpret_cast<float*>(b + b_bytes);
  const auto* weights = static_cast<const uint8_t*>(args.weights);
  amx_configure_bf16();
  for (int64_t tt0 = 0; tt0 < n_tiles_total; tt0 += tb_tiles) {
    const int64_t n_tt = std::min(tb_tiles, n_tiles_total - tt0);
    const int64_t n_tt2 = (n_tt + 1) / 2 * 2;  // an odd last tile is paired with a padding tile
    for (int64_t s0 = 0; s0 < n_strips_total; s0 += rb_strips) {
      const int64_t n_s = std::min(rb_strips, n_strips_total - s0);
      const int64_t n_s2 = (n_s + 1) / 2 * 2;
      for (int64_t k0 = 0; k0 < k; k0 += kAmxKc) {
        const int64_t kc = std::min(kAmxKc, k - k0);
        for (int64_t s = 0; s < n_s2; s += 2) {
          for (int j = 0; j < 2; ++j) {
            uint8_t* hi = b + 2 * j * plane_bytes;
            if (s + j < n_s) {
              const uint8_t* strip = weights + (args.row_begin / kAmxTile + s0 + s + j) * strip_bytes;
              amx_convert_strip(strip, k0, kc, hi, x3 ? hi + plane_bytes : nullptr);
            } else {
              std::memset(hi, 0, static_cast<size_t>(2 * plane_bytes));  // padding strip
            }
          }
          for (int64_t tt = 0; tt < n_tt2; tt += 2) {
            // A padding token tile (odd count) reads the real one again; its results are never copied out.
            const int64_t tile[2] = {tt0 + tt, tt + 1 < n_tt ? tt0 + tt + 1 : tt0 + tt};
            AmxARows a{};
            for (int j = 0; j < 2; ++j) {
              const int64_t at = (tile[j] * (k / kAmxKTile) + k0 / kAmxKTile) * 512;
              a.hi[j] = args.act_bf16_hi + at;
              a.lo[j] = x3 ? args.act_bf16_lo + at : nullptr;
            }
            amx_bf16_block(c + (tt * rb_strips + s) * 256, rb_strips, k0 == 0, a, b, b + 2 * plane_bytes, plane_bytes,
                           kc / kAmxKTile);
          }
        }
      }
      // C tiles -> output rows / tokens that exist.
      for (int64_t tt = 0; tt < n_tt; ++tt) {
        for (int64_t s = 0; s < n_s; ++s) {
          const int64_t row0 = args.row_begin + (s0 + s) * kAmxTile;
          const int64_t rows = std::min<int64_t>(kAmxTile, args.row_end - row0);
          const auto mask = static_cast<__mmask16>((1u << rows) - 1u);
          const float* tile = c + (tt * rb_strips + s) * 256;
          const int64_t tok0 = (tt0 + tt) * kAmxTile;
          const int64_t n_tok = std::min<int64_t>(kAmxTile, args.n_tokens - tok0);
          for (int64_t t = 0; t < n_tok; ++t) {
            _mm512_mask_storeu_ps(args.out + (tok0 + t) * args.out_row_stride + row0, mask, _mm512_load_ps(tile + 16 * t));
          }
        }
      }
    }
  }
  _tile_release();
}

// Register-only AMX-BF16 rate probe: `iters` x 4 independent TDPBF16PS (16 x 16 x 32 each) on
// zero tiles; returns the FLOPs done (2 per multiply-add) for the caller to time.
FRUGAL_AMX_BF16_TARGET inline int64_t amx_bf16_probe(int64_t iters) {
  alignas(64) static const uint8_t zeros[kAmxTileBytes] = {};
  amx_configure_bf16();
  _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);  // NOLINT
  _tile_loadd(4, zeros, 64); _tile_loadd(5, zeros, 64); _tile_loadd(6, zeros, 64); _tile_loadd(7, zeros, 64);
  for (int64_t i = 0; i < iters; ++i) {
    _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
  }
  alignas(64) float sink[256];
  _tile_stored(0, sink, 64);
  _tile_release();
  return iters * 4 * 2 * 16 * 16 * 32 + static_cast<int64_t>(sink[0]);  // sink[0] == 0: keeps the loop
}

}  // namespace
}  // namespace frugal::x86
