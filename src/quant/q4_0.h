// Q4_0 block format: 32 weights, f16 scale + 4-bit levels (quant layer; GGML type 2).
#pragma once

#include <cstdint>

#include "core/fp16.h"
#include "quant/unpacked.h"
#include "tensor/dtype.h"

namespace frugal {

// Element j (0..15) is the low nibble of qs[j]; element j+16 is its high nibble.
// value = (nibble - 8) * d.
struct BlockQ4_0 {
  uint16_t d;       // f16 scale
  uint8_t qs[16];   // nibbles
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block is 18 bytes in GGUF");

struct Q4_0 {
  using Block = BlockQ4_0;
  using Unpacked = Unpacked32;
  static constexpr DType kDType = DType::kQ4_0;
  static constexpr DType kActDType = DType::kQ8_0;
  static constexpr int64_t kBlockElems = 32;

  static void unpack(const Block& b, Unpacked& u) {
    u.d = f16_to_f32(b.d);
    for (int j = 0; j < 16; ++j) {
      u.q[j] = static_cast<int8_t>((b.qs[j] & 0x0f) - 8);
      u.q[j + 16] = static_cast<int8_t>((b.qs[j] >> 4) - 8);
    }
  }
  // ggml's reference rounding: signed max m, d = m / -8, level = min(15, int(x/d + 8.5)).
  // w: optional per-element error weights w[32] (importance-weighted scale search; see
  // quant/weighted_quantize.h); nullptr = the plain quantizer.
  static void quantize(const float* x, Block& b, const float* w = nullptr);  // x[32]
};

}  // namespace frugal
