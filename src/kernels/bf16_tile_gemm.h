// A GEMM of f32 operands on AMX-BF16 tiles through exact bf16 splits (kernels layer): the interface
// the ops layer calls (KernelTable::bf16_tile_gemm, set only where the CPU and the OS grant
// AMX-BF16), the operand layouts, and their scalar packers (the tests' reference).
//
//   C[r, c] = sum_i A[r, i] * B[c, i]      A: [n_rows, k] f32 (a convolution's weight rows, packed once)
//                                          B: [n_cols, k] f32 (im2col columns, one per output pixel)
// Each f32 operand x is split as hi = bf16(x), lo = bf16(x - hi) (nearest even; hi + lo keeps 16
// significant bits, |x - hi - lo| <= 2^-17 |x|), and the products summed in f32 are
//   kX1: Ah·Bh                 (one tile product per k tile; relative error ~2^-8 per product)
//   kX2: Ah·Bh + Ah·Bl         (two; A rounded to bf16: ~2^-9 per weight, B kept to 16 bits)
//   kX3: Ah·Bh + Ah·Bl + Al·Bh (three; only the dropped Al·Bl and the splits' residue, ~2^-16)
// Every bf16 product is exact in f32; the tiles sum pairs in their own order (not the FMA kernels').
//
// Layouts (elements of uint16_t bf16 bits; k padded with zeros to k_pad = a multiple of 32):
//   A planes (hi, lo): row-tile order, one 16-row x 32-element AMX A tile per KiB:
//     element (r, i) at ((r / 16) * (k_pad / 32) + i / 32) * 512 + (r % 16) * 32 + i % 32
//     (the same order as ref::split_bf16_tiles); rows padded to a multiple of 16 with zeros.
//   B: strips of 16 columns; per strip the hi plane, then (planes 2) the lo plane, each k_pad / 32
//     B tiles of 16 k-pairs x 16 columns x 2 (TDPBF16PS's pair layout):
//     element (c, i) at (c / 16) * strip_elems + plane * (k_pad * 16) + (i / 32) * 512 +
//     ((i % 32) / 2) * 32 + (c % 16) * 2 + i % 2, strip_elems = planes * k_pad * 16; columns
//     padded to a multiple of 16 with zeros.
#pragma once

#include <cstdint>

#include "kernels/ref/ref_bf16_split.h"

namespace frugal {

enum class Bf16Products { kX1 = 1, kX2 = 2, kX3 = 3 };

inline int64_t bf16_tile_k_pad(int64_t k) { return (k + 31) / 32 * 32; }
inline int64_t bf16_tile_round16(int64_t n) { return (n + 15) / 16 * 16; }
// Elements of one packed B strip (16 columns) with `planes` (1: hi, 2: hi and lo).
inline int64_t bf16_tile_b_strip_elems(int64_t k_pad, int planes) { return planes * k_pad * 16; }
inline int64_t bf16_tile_b_elems(int64_t n_cols, int64_t k_pad, int planes) {
  return bf16_tile_round16(n_cols) / 16 * bf16_tile_b_strip_elems(k_pad, planes);
}
inline int64_t bf16_tile_b_index(int64_t k_pad, int planes, int64_t c, int64_t i, int plane) {
  return (c / 16) * bf16_tile_b_strip_elems(k_pad, planes) + plane * (k_pad * 16) +
         (i / 32) * 512 + ((i % 32) / 2) * 32 + (c % 16) * 2 + i % 2;
}
inline int64_t bf16_tile_a_index(int64_t k_pad, int64_t r, int64_t i) {
  return ((r / 16) * (k_pad / 32) + i / 32) * 512 + (r % 16) * 32 + i % 32;
}

// B rows w [n_cols, k] f32 -> the packed layout above in out[bf16_tile_b_elems(n_cols, k_pad,
// planes)] (planes 2: hi and lo; padding zero). Scalar (the tests build B with it).
inline void pack_bf16_tiles_b(const float* w, int64_t n_cols, int64_t k, int planes, uint16_t* out) {
  const int64_t k_pad = bf16_tile_k_pad(k);
  const int64_t total = bf16_tile_b_elems(n_cols, k_pad, planes);
  for (int64_t j = 0; j < total; ++j) out[j] = 0;
  for (int64_t c = 0; c < n_cols; ++c) {
    for (int64_t i = 0; i < k; ++i) {
      const float x = w[c * k + i];
      const uint16_t hi = ref::bf16_rne_bits(x);
      out[bf16_tile_b_index(k_pad, planes, c, i, 0)] = hi;
      if (planes == 2) out[bf16_tile_b_index(k_pad, planes, c, i, 1)] = ref::bf16_rne_bits(x - ref::bf16_bits_to_f32(hi));
    }
  }
}

// One A row x [k] f32 (k <= k_pad) -> row r of the A planes (lo may be null); elements k..k_pad-1 zero.
inline void split_bf16_tiles_row_ref(const float* x, int64_t k, int64_t k_pad, int64_t r, uint16_t* hi, uint16_t* lo) {
  for (int64_t i = 0; i < k_pad; ++i) {
    const float v = i < k ? x[i] : 0.0f;
    const uint16_t h = ref::bf16_rne_bits(v);
    hi[bf16_tile_a_index(k_pad, r, i)] = h;
    if (lo != nullptr) lo[bf16_tile_a_index(k_pad, r, i)] = ref::bf16_rne_bits(v - ref::bf16_bits_to_f32(h));
  }
}

// One strip of B from staged columns: x [k][16] f32 (column c's element i at x[i * 16 + c]) -> the
// strip's hi plane (and lo plane, may be null), k_pad * 16 elements each, elements >= k zero.
inline void split_bf16_strip_ref(const float* x, int64_t k, int64_t k_pad, uint16_t* hi, uint16_t* lo) {
  for (int64_t i = 0; i < k_pad; ++i) {
    for (int64_t c = 0; c < 16; ++c) {
      const float v = i < k ? x[i * 16 + c] : 0.0f;
      const uint16_t h = ref::bf16_rne_bits(v);
      const int64_t at = bf16_tile_b_index(k_pad, 1, c, i, 0);
      hi[at] = h;
      if (lo != nullptr) lo[at] = ref::bf16_rne_bits(v - ref::bf16_bits_to_f32(h));
    }
  }
}

// One call: rows [row_tile_begin * 16, row_tile_end * 16) x columns [col_strip_begin * 16,
// col_strip_end * 16) of C, the rows < n_rows and columns < n_cols stored row-major with a per-row
// bias (a convolution's channel-first output, rows = output channels, columns = pixels):
//   out[r * out_row_stride + c] = bias[r] (0 if null) + C[r, c]
struct Bf16TileGemmArgs {
  int64_t k_pad = 0;  // % 32 == 0
  const uint16_t* a_hi = nullptr;  // A planes (layout above), whole row tiles from row 0
  const uint16_t* a_lo = nullptr;  // needed by kX3
  int64_t row_tile_begin = 0, row_tile_end = 0;
  int64_t n_rows = 0;  // rows >= n_rows are padding: computed, never stored
  const uint16_t* b = nullptr;  // B strips from strip 0
  int b_planes = 1;             // 2 for kX2 / kX3
  int64_t col_strip_begin = 0, col_strip_end = 0;
  int64_t n_cols = 0;  // columns >= n_cols are padding
  Bf16Products products = Bf16Products::kX3;
  float* out = nullptr;
  int64_t out_row_stride = 0;
  const float* bias = nullptr;
};

struct Bf16TileGemm {
  // One A row x [k] -> row r of tile-ordered planes of row length k_pad (lo may be null), the
  // padding elements zero; bit-equal to split_bf16_tiles_row_ref.
  void (*split_row)(const float* x, int64_t k, int64_t k_pad, int64_t r, uint16_t* hi, uint16_t* lo) = nullptr;
  // One B strip from staged columns; bit-equal to split_bf16_strip_ref.
  void (*split_strip)(const float* x, int64_t k, int64_t k_pad, uint16_t* hi, uint16_t* lo) = nullptr;
  void (*gemm)(const Bf16TileGemmArgs& args) = nullptr;
};

}  // namespace frugal
