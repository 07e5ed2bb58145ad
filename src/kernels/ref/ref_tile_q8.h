// Scalar reference of the tile-Q8 matmul (kernels layer): exactly the arithmetic of
// kernels/tile_q8_layout.h's header note, read from the same packed weights and activation tiles,
// so an AMX kernel's outputs must equal it bit for bit (tests/kernels/amx_int8_q8_test.cc).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/tile_q8_layout.h"

namespace frugal::ref {

// y[t, r] for rows [row_begin, row_end) (row_begin % 16 == 0) and tokens [0, n_tokens):
//   weights: tile_q8::pack_rows output; q / scales / scale_stride: tile_q8::quantize_acts output;
//   out[t * out_row_stride + r].
inline void tile_q8_mul_mat(int64_t k, int64_t group, const void* weights, int64_t row_begin, int64_t row_end,
                            const int8_t* q, const float* scales, int64_t scale_stride, int64_t n_tokens, float* out,
                            int64_t out_row_stride) {
  using namespace tile_q8;
  const int64_t kp = padded_k(k), sbytes = strip_bytes(k, group);
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* strip = static_cast<const uint8_t*>(weights) + r / kRows * sbytes;
    const int64_t n = r % kRows;
    for (int64_t t = 0; t < n_tokens; ++t) {
      float acc = 0.0f;
      for (int64_t g = 0; g < kp / group; ++g) {
        int32_t isum = 0;
        for (int64_t i = g * group; i < (g + 1) * group; ++i) {
          isum += static_cast<int32_t>(static_cast<int8_t>(strip[weight_offset(i, n)])) * q[act_offset(k, t, i)];
        }
        float sw = 0.0f;
        std::memcpy(&sw, strip + kp / kKTile * kTileBytes + (g * kRows + n) * 4, 4);
        acc = std::fma(static_cast<float>(isum), scales[g * scale_stride + t] * sw, acc);
      }
      out[t * out_row_stride + r] = acc;
    }
  }
}

}  // namespace frugal::ref
