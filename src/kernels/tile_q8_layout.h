// The int8 tile layout of Q8_0 weights for AMX-INT8 prefill ("tile Q8"; kernels layer): the bytes
// the load-time re-layout writes, the activation tiles the op fills per call, and the scalar
// definition of both quantizations. No intrinsics: shared by the scalar reference
// (ref/ref_tile_q8.h) and the AMX kernel (x86_avx512/amx_int8_q8.h).
//
// Why a new layout: a Q8_0 block's f16 scale covers 32 elements, so int8 tiles would have to store
// and rescale their int32 results after every 32 elements (the packed Q4_K AMX kernel's limit,
// docs/design/layering.md). Here each weight row is re-quantized at load, per scale group of
// `group` elements (a multiple of 64 dividing the padded k; group = padded k: one scale per row),
// and each activation row per call with the same groups, so the tiles' int32 sums run over a whole
// group before one f32 scaling:
//   w[r, i] = sw[r, g] * qw[r, i],  a[t, i] = sa[t, g] * qa[t, i]   (qw, qa int8 in [-127, 127])
//   isum[t, r, g] = sum_{i in g} qa[t, i] * qw[r, i]                 (exact int32)
//   y[t, r] = acc after, for g = 0, 1, ...: acc = fma(float(isum[t, r, g]), sa[t, g] * sw[r, g], acc)
// Every step is exact or one correctly rounded f32 operation in a fixed order, so every table that
// computes this gives the same bits, for any batch (a token's result depends on its own row only).
// Not llama.cpp's Q8_0 numerics: the weights are rounded a second time (to the group's scale), so
// only callers that accept that (the video DiT) ask for it (ops/matmul.h pack_for_kernels).
//
// Weights: rows in strips of 16 (padding rows zero); k padded with zeros to kp = a multiple of 64.
// A strip is kp / 64 B tiles of 1 KiB (TDPBSSD's B operand: tile row p holds elements 4p .. 4p + 3
// of the 16 rows, row n at bytes 4n .. 4n + 3), then the f32 scales sw[g][16 rows].
// Activations: tokens in tiles of 16 (padding tokens zero), one A tile per 16 tokens x 64 elements
// (1 KiB: token t's elements at row t % 16), tiles of one token tile adjacent along k; the scales
// sa as [n_groups][scale_stride] (a group's tokens adjacent).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/fp16.h"
#include "quant/q8_0.h"

namespace frugal::tile_q8 {

constexpr int64_t kRows = 16;        // rows per strip, tokens per A tile
constexpr int64_t kKTile = 64;       // int8 elements per tile row
constexpr int64_t kTileBytes = 1024;

inline int64_t padded_k(int64_t k) { return (k + kKTile - 1) / kKTile * kKTile; }
inline int64_t padded_tokens(int64_t n) { return (n + kRows - 1) / kRows * kRows; }
// A usable group size for k: a multiple of 64 dividing padded_k(k).
inline bool valid_group(int64_t k, int64_t group) {
  return group > 0 && group % kKTile == 0 && padded_k(k) % group == 0;
}
// The largest valid group <= want (want <= 0 or >= padded_k: one group per row).
inline int64_t fit_group(int64_t k, int64_t want) {
  const int64_t kp = padded_k(k);
  if (want <= 0 || want >= kp) return kp;
  for (int64_t g = want / kKTile * kKTile; g > kKTile; g -= kKTile) {
    if (kp % g == 0) return g;
  }
  return kKTile;
}
inline int64_t n_groups(int64_t k, int64_t group) { return padded_k(k) / group; }
inline int64_t strip_bytes(int64_t k, int64_t group) {
  return padded_k(k) / kKTile * kTileBytes + n_groups(k, group) * kRows * 4;
}
inline int64_t packed_size(int64_t n_rows, int64_t k, int64_t group) {
  return (n_rows + kRows - 1) / kRows * strip_bytes(k, group);
}
// Byte offset of element i of strip row n (weights), of token t's element i (activation tiles).
inline int64_t weight_offset(int64_t i, int64_t n) { return i / kKTile * kTileBytes + (i % kKTile) / 4 * 64 + 4 * n + i % 4; }
inline int64_t act_offset(int64_t k, int64_t t, int64_t i) {
  return ((t / kRows) * (padded_k(k) / kKTile) + i / kKTile) * kTileBytes + (t % kRows) * kKTile + i % kKTile;
}

// One group: x[n] -> q[n] with x ~ scale * q; returns scale = max|x| / 127 (0 for an all-zero
// group). q = nearest-even(x * (1 / scale)), which stays within [-127, 127].
inline float quantize_group(const float* x, int64_t n, int8_t* q) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float scale = amax / 127.0f;
  const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
  for (int64_t i = 0; i < n; ++i) q[i] = static_cast<int8_t>(std::nearbyint(x[i] * inv));
  return scale;
}

// Q8_0 rows [n_rows, k] (k % 32 == 0) -> out: packed_size(n_rows, k, group) bytes. Each row is
// dequantized exactly (f16 d x int8 level fits f32) and re-quantized per group (quantize_group).
inline void pack_rows(const void* rows, int64_t n_rows, int64_t k, int64_t group, void* out) {
  const int64_t kp = padded_k(k), groups = n_groups(k, group), sbytes = strip_bytes(k, group);
  const int64_t row_bytes = k / 32 * static_cast<int64_t>(sizeof(BlockQ8_0));
  auto* dst = static_cast<uint8_t*>(out);
  std::memset(dst, 0, static_cast<size_t>(packed_size(n_rows, k, group)));
  std::vector<float> values(static_cast<size_t>(kp));
  std::vector<int8_t> levels(static_cast<size_t>(kp));
  for (int64_t row = 0; row < n_rows; ++row) {
    const auto* src = static_cast<const uint8_t*>(rows) + row * row_bytes;
    std::fill(values.begin(), values.end(), 0.0f);
    for (int64_t b = 0; b < k / 32; ++b) {
      BlockQ8_0 blk;
      std::memcpy(&blk, src + b * static_cast<int64_t>(sizeof(BlockQ8_0)), sizeof(blk));  // rows need not be aligned
      const float d = f16_to_f32(blk.d);
      for (int i = 0; i < 32; ++i) values[static_cast<size_t>(32 * b + i)] = d * static_cast<float>(blk.qs[i]);
    }
    uint8_t* strip = dst + row / kRows * sbytes;
    const int64_t n = row % kRows;
    for (int64_t g = 0; g < groups; ++g) {
      const float scale = quantize_group(values.data() + g * group, group, levels.data() + g * group);
      std::memcpy(strip + kp / kKTile * kTileBytes + (g * kRows + n) * 4, &scale, 4);
    }
    for (int64_t i = 0; i < kp; ++i) strip[weight_offset(i, n)] = static_cast<uint8_t>(levels[static_cast<size_t>(i)]);
  }
}

// Tokens [t_begin, t_end) of x [n, k] -> their rows of the activation tiles `q` (padding elements
// k .. kp written zero) and sa in scales[g * scale_stride + t].
inline void quantize_acts(const float* x, int64_t k, int64_t group, int64_t t_begin, int64_t t_end, int8_t* q,
                          float* scales, int64_t scale_stride) {
  const int64_t kp = padded_k(k);
  std::vector<float> row(static_cast<size_t>(kp), 0.0f);
  std::vector<int8_t> levels(static_cast<size_t>(kp));
  for (int64_t t = t_begin; t < t_end; ++t) {
    std::copy(x + t * k, x + (t + 1) * k, row.begin());
    for (int64_t g = 0; g < kp / group; ++g) {
      scales[g * scale_stride + t] = quantize_group(row.data() + g * group, group, levels.data() + g * group);
    }
    for (int64_t i = 0; i < kp; ++i) q[act_offset(k, t, i)] = levels[static_cast<size_t>(i)];
  }
}

}  // namespace frugal::tile_q8
