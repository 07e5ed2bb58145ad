// Q8_0 block format: 32 values, f16 scale + int8 levels (quant layer; GGML type 8).
// Also the activation format dotted with Q4_0/Q5_0/Q8_0 weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/fp16.h"
#include "quant/unpacked.h"
#include "tensor/dtype.h"

namespace frugal {

struct BlockQ8_0 {
  uint16_t d;      // f16 scale
  int8_t qs[32];   // value = qs[i] * d
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block is 34 bytes in GGUF");

struct Q8_0 {
  using Block = BlockQ8_0;
  using Unpacked = Unpacked32;
  static constexpr DType kDType = DType::kQ8_0;
  static constexpr DType kActDType = DType::kQ8_0;
  static constexpr int64_t kBlockElems = 32;

  static void unpack(const Block& b, Unpacked& u) {
    u.d = f16_to_f32(b.d);
    for (int i = 0; i < 32; ++i) u.q[i] = b.qs[i];
  }
  // ggml's reference: amax = max|x|, d = amax/127, id = d ? 1/d : 0, q = roundf(x*id)
  // (ties away from zero), d stored as f16. Used for weights and activations alike.
  static void quantize(const float* x, Block& b);  // x[32]
};

// Per block of a Q8_0 row: the sum of its 32 levels and its scale d as f32 (what a kernel over
// unsigned-offset weights needs to remove the offset exactly). row: [n_blocks] blocks; block b's
// results go to sums[b * stride] and scales[b * stride].
inline void q8_0_block_sums(const void* row, int64_t n_blocks, int64_t stride, int32_t* sums, float* scales) {
  // Byte access: rows need not be aligned for the f16 member.
  const uint8_t* block = static_cast<const uint8_t*>(row);
  for (int64_t b = 0; b < n_blocks; ++b, block += sizeof(BlockQ8_0)) {
    int8_t qs[32];
    std::memcpy(qs, block + offsetof(BlockQ8_0, qs), sizeof(qs));
    int32_t sum = 0;
    for (int i = 0; i < 32; ++i) sum += qs[i];
    uint16_t d;
    std::memcpy(&d, block + offsetof(BlockQ8_0, d), sizeof(d));
    sums[b * stride] = sum;
    scales[b * stride] = f16_to_f32(d);
  }
}

}  // namespace frugal
