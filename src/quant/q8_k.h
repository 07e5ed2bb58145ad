// Q8_K block format: 256 activations, f32 scale + int8 levels + 16-group sums (quant layer;
// GGML type 15). The activation format dotted with Q4_K/Q5_K/Q6_K weights; never a weight.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace frugal {

struct BlockQ8_K {
  float d;             // f32 scale
  int8_t qs[256];      // value = qs[i] * d
  int16_t bsums[16];   // bsums[g] = sum of qs[16g .. 16g+15]
};
static_assert(sizeof(BlockQ8_K) == 292, "Q8_K block is 292 bytes");

struct Q8_K {
  using Block = BlockQ8_K;
  static constexpr DType kDType = DType::kQ8_K;
  static constexpr int64_t kBlockElems = 256;
  static constexpr int kGroupElems = 16;

  // ggml's reference: m = the value of largest |x| (first one, sign kept); m == 0 -> all zero;
  // iscale = -127/m, q = min(127, nearest_int(iscale*x)) (ties to even), d = 1/iscale.
  static void quantize(const float* x, Block& b);  // x[256]
  static void dequantize(const Block& b, float* y);  // y[256]
};

// Row of k / 256 Q8_K blocks (possibly unaligned) -> y[k].
void dequantize_row_q8_k(const void* x, float* y, int64_t k);

// Per block of a Q8_K row (n_blocks blocks, possibly unaligned): its 16 group sums (bsums) go to
// sums[(16 b + g) * stride] and its d to scales[b * stride] -- what a kernel over unsigned-offset
// weights needs to remove the offset exactly.
void q8_k_block_sums(const void* row, int64_t n_blocks, int64_t stride, int32_t* sums, float* scales);

}  // namespace frugal
