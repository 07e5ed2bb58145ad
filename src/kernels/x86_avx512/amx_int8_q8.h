// AMX-INT8 prefill over tile-Q8 weights (kernels layer): the table's tile_q8 entries, for Q8_0
// matrices re-quantized at load into kernels/tile_q8_layout.h's layout (one scale per row and
// group), with activations quantized per call into int8 A tiles (one scale per token and group).
//
// Arithmetic: tile_q8_layout.h's, bit for bit (ref::tile_q8_mul_mat): per 16 tokens x 16 rows x
// 64 elements one TDPBSSD (signed x signed bytes, exact int32 sums) into C tiles that stay int32
// over a whole scale group; then per group one f32 pass: acc = fma(float(isum), sa * sw, acc).
// Blocking (2 MiB L2 per core): tokens in blocks of kQ8Tb, rows of kQ8Rb, k in chunks of kQ8Kc
// (never across a group's end); a 2 x 2 block of C tiles (32 tokens x 32 rows) per inner step
// (tmm0-3 C, tmm4-5 A, tmm6-7 B), the int32 C tiles of a token block x row block in a thread-local
// buffer across the chunks of a group, the f32 sums in another across groups. The weights are
// already in B-tile order (no per-call conversion), the activations in A-tile order.
// Included only by the AVX-512 TU; called only where cpu_features grants AMX-INT8.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/tile_q8_layout.h"
#include "kernels/x86_avx512/amx_tile_config.h"

#define FRUGAL_AMX_INT8_TARGET __attribute__((target("amx-tile,amx-int8")))

namespace frugal::x86 {
namespace {

constexpr int64_t kQ8Kc = 512;  // k elements per chunk (A chunk 384 x 512 B = 192 KiB)
constexpr int64_t kQ8Tb = 384;  // tokens per block
constexpr int64_t kQ8Rb = 128;  // rows per block (int32 and f32 C buffers 384 x 128 x 4 B each)

FRUGAL_AMX_INT8_TARGET inline void amx_configure_int8() {
  AmxTileConfig cfg;
  for (int i = 0; i < 8; ++i) cfg.colsb[i] = 64, cfg.rows[i] = 16;
  _tile_loadconfig(&cfg);
}

// C tiles (int32, tile order: [token tile][strip], token-tile stride c_stride tiles) += A x B over
// n_kt k tiles for 2 token tiles (a0, a1: their first A tile of the chunk) x 2 strips (b0, b1).
FRUGAL_AMX_INT8_TARGET inline void amx_int8_block(int32_t* c, int64_t c_stride, bool first, const int8_t* a0,
                                                  const int8_t* a1, const uint8_t* b0, const uint8_t* b1,
                                                  int64_t n_kt) {
  const CTileBlock<int32_t> block(c, c_stride);
  block.load_or_zero(first);
  for (int64_t kt = 0; kt < n_kt; ++kt) {
    _tile_loadd(4, a0 + tile_q8::kTileBytes * kt, 64);
    _tile_loadd(5, a1 + tile_q8::kTileBytes * kt, 64);
    _tile_loadd(6, b0 + tile_q8::kTileBytes * kt, 64);
    _tile_loadd(7, b1 + tile_q8::kTileBytes * kt, 64);
    _tile_dpbssd(0, 4, 6); _tile_dpbssd(1, 4, 7); _tile_dpbssd(2, 5, 6); _tile_dpbssd(3, 5, 7);
  }
  block.store();
}

// Tokens [t_begin, t_end) of x [n, k] -> tile_q8::quantize_acts' bytes and scales, bit-equal.
inline void tile_q8_quantize_zmm(const float* x, int64_t k, int64_t group, int64_t t_begin, int64_t t_end, int8_t* q,
                                 float* scales, int64_t scale_stride) {
  const int64_t kp = tile_q8::padded_k(k);
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t t = t_begin; t < t_end; ++t) {
    const float* row = x + t * k;
    for (int64_t g0 = 0; g0 < kp; g0 += group) {
      const int64_t g1 = std::min(g0 + group, k);  // real elements of the group (the rest is padding)
      __m512 amax = _mm512_setzero_ps();
      for (int64_t i = g0; i < g1; i += 16) {
        const auto m = static_cast<__mmask16>(g1 - i >= 16 ? 0xffff : (1u << (g1 - i)) - 1u);
        amax = _mm512_max_ps(amax, _mm512_and_ps(_mm512_maskz_loadu_ps(m, row + i), abs_mask));
      }
      const float scale = _mm512_reduce_max_ps(amax) / 127.0f;
      scales[g0 / group * scale_stride + t] = scale;
      const __m512 inv = _mm512_set1_ps(scale > 0.0f ? 1.0f / scale : 0.0f);
      for (int64_t i = g0; i < g0 + group; i += 16) {
        const auto m = static_cast<__mmask16>(i >= k ? 0 : k - i >= 16 ? 0xffff : (1u << (k - i)) - 1u);
        const __m512i qi = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + i), inv));  // nearest even
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q + tile_q8::act_offset(k, t, i)), _mm512_cvtsepi32_epi8(qi));
      }
    }
  }
}

// The f32 pass of group g over the int32 C tiles of n_tt token tiles x n_s strips: acc = fma(float(isum),
// sa * sw, acc) (acc = 0 for the first group); the last group writes the outputs that exist.
inline void tile_q8_scale_pass(const MulMatArgs& args, const int32_t* c, float* acc, int64_t rb_strips, int64_t tt0,
                               int64_t n_tt, const uint8_t* strip0, int64_t strip_bytes, int64_t n_s, int64_t row0,
                               int64_t g, bool first, bool last) {
  const int64_t kp = tile_q8::padded_k(args.k);
  const int64_t stride = tile_q8::padded_tokens(args.n_tokens);
  for (int64_t s = 0; s < n_s; ++s) {
    const uint8_t* strip = strip0 + s * strip_bytes;
    const __m512 sw = _mm512_loadu_ps(reinterpret_cast<const float*>(strip + kp / tile_q8::kKTile * tile_q8::kTileBytes) + 16 * g);
    const int64_t r0 = row0 + s * tile_q8::kRows;
    const auto mask = static_cast<__mmask16>((1u << std::min<int64_t>(16, args.row_end - r0)) - 1u);
    for (int64_t tt = 0; tt < n_tt; ++tt) {
      const int32_t* tile = c + (tt * rb_strips + s) * 256;
      float* acc_tile = acc + (tt * rb_strips + s) * 256;
      const int64_t tok0 = (tt0 + tt) * tile_q8::kRows;
      const int64_t n_tok = std::min<int64_t>(tile_q8::kRows, args.n_tokens - tok0);
      const float* sa = args.act_i8_scales + g * stride + tok0;
      for (int64_t t = 0; t < n_tok; ++t) {
        const __m512 prod = _mm512_mul_ps(_mm512_set1_ps(sa[t]), sw);
        const __m512 prev = first ? _mm512_setzero_ps() : _mm512_load_ps(acc_tile + 16 * t);
        const __m512 sum = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(tile + 16 * t)), prod, prev);
        if (last) {
          _mm512_mask_storeu_ps(args.out + (tok0 + t) * args.out_row_stride + r0, mask, sum);
        } else {
          _mm512_store_ps(acc_tile + 16 * t, sum);
        }
      }
    }
  }
}

// y = W x for rows [row_begin, row_end) (row_begin % 16 == 0), weights args.weights in the tile-Q8
// layout with args.tile_group, activations args.act_i8 / act_i8_scales (quantize_acts' output
// for all n_tokens, padded to whole 16-token tiles).
FRUGAL_AMX_INT8_TARGET inline void amx_int8_q8_mul_mat(const MulMatArgs& args) {
  const int64_t k = args.k, group = args.tile_group;
  const int64_t kp = tile_q8::padded_k(k), n_kt_total = kp / tile_q8::kKTile;
  const int64_t sbytes = tile_q8::strip_bytes(k, group);
  const int64_t n_tiles_total = tile_q8::padded_tokens(args.n_tokens) / tile_q8::kRows;
  const int64_t n_strips_total = (args.row_end - args.row_begin + tile_q8::kRows - 1) / tile_q8::kRows;
  const int64_t tb_tiles = kQ8Tb / tile_q8::kRows, rb_strips = kQ8Rb / tile_q8::kRows;  // both even
  const int64_t c_elems = tb_tiles * rb_strips * 256;
  thread_local std::vector<int32_t> scratch;  // int32 C then f32 sums, 64-byte aligned; grows once per thread
  scratch.resize(static_cast<size_t>(2 * c_elems + 16));
  auto* c = reinterpret_cast<int32_t*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
  auto* acc = reinterpret_cast<float*>(c + c_elems);
  const auto* weights = static_cast<const uint8_t*>(args.weights);
  amx_configure_int8();
  for (int64_t tt0 = 0; tt0 < n_tiles_total; tt0 += tb_tiles) {
    const int64_t n_tt = std::min(tb_tiles, n_tiles_total - tt0);
    const int64_t n_tt2 = (n_tt + 1) / 2 * 2;  // an odd last tile is paired with itself; that copy is never read
    for (int64_t s0 = 0; s0 < n_strips_total; s0 += rb_strips) {
      const int64_t n_s = std::min(rb_strips, n_strips_total - s0);
      const int64_t n_s2 = (n_s + 1) / 2 * 2;
      const uint8_t* strip0 = weights + (args.row_begin / tile_q8::kRows + s0) * sbytes;
      for (int64_t g0 = 0; g0 < kp; g0 += group) {
        for (int64_t k0 = g0; k0 < g0 + group; k0 += kQ8Kc) {
          const int64_t n_kt = std::min(kQ8Kc, g0 + group - k0) / tile_q8::kKTile;
          for (int64_t s = 0; s < n_s2; s += 2) {
            const uint8_t* b0 = strip0 + s * sbytes + k0 / tile_q8::kKTile * tile_q8::kTileBytes;
            const uint8_t* b1 = s + 1 < n_s ? b0 + sbytes : b0;
            for (int64_t tt = 0; tt < n_tt2; tt += 2) {
              const int64_t tile1 = tt + 1 < n_tt ? tt0 + tt + 1 : tt0 + tt;
              const int8_t* a0 = args.act_i8 + ((tt0 + tt) * n_kt_total + k0 / tile_q8::kKTile) * tile_q8::kTileBytes;
              const int8_t* a1 = args.act_i8 + (tile1 * n_kt_total + k0 / tile_q8::kKTile) * tile_q8::kTileBytes;
              amx_int8_block(c + (tt * rb_strips + s) * 256, rb_strips, k0 == g0, a0, a1, b0, b1, n_kt);
            }
          }
        }
        tile_q8_scale_pass(args, c, acc, rb_strips, tt0, n_tt, strip0, sbytes, n_s,
                           args.row_begin + s0 * tile_q8::kRows, g0 / group, g0 == 0, g0 + group == kp);
      }
    }
  }
  _tile_release();  // the thread's tile state back to init (cheaper context switches)
}

// Register-only AMX-INT8 rate probe: `iters` x 4 independent TDPBSSD (16 x 16 x 64 each) on zero
// tiles; returns the int8 ops done (2 per multiply-add) for the caller to time.
FRUGAL_AMX_INT8_TARGET inline int64_t amx_int8_probe(int64_t iters) {
  alignas(64) static const uint8_t zeros[tile_q8::kTileBytes] = {};
  amx_configure_int8();
  _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);  // NOLINT
  _tile_loadd(4, zeros, 64); _tile_loadd(5, zeros, 64); _tile_loadd(6, zeros, 64); _tile_loadd(7, zeros, 64);
  for (int64_t i = 0; i < iters; ++i) {
    _tile_dpbssd(0, 4, 6); _tile_dpbssd(1, 4, 7); _tile_dpbssd(2, 5, 6); _tile_dpbssd(3, 5, 7);
  }
  alignas(64) int32_t sink[256];
  _tile_stored(0, sink, 64);
  _tile_release();
  return iters * 4 * 2 * 16 * 16 * 64 + sink[0];  // sink[0] == 0: keeps the loop
}

}  // namespace
}  // namespace frugal::x86
