// Q5_0 block format: 32 weights, f16 scale + 5-bit levels (quant layer; GGML type 6).
#pragma once

#include <cstdint>
#include <cstring>

#include "core/fp16.h"
#include "quant/unpacked.h"
#include "tensor/dtype.h"

namespace frugal {

// Low 4 bits as in Q4_0 (element j low nibble of qs[j], element j+16 high nibble); bit 4 of
// element i is bit i of qh read as a little-endian uint32. value = (level - 16) * d.
struct BlockQ5_0 {
  uint16_t d;       // f16 scale
  uint8_t qh[4];    // high bits, little-endian uint32
  uint8_t qs[16];   // low nibbles
};
static_assert(sizeof(BlockQ5_0) == 22, "Q5_0 block is 22 bytes in GGUF");

struct Q5_0 {
  using Block = BlockQ5_0;
  using Unpacked = Unpacked32;
  static constexpr DType kDType = DType::kQ5_0;
  static constexpr DType kActDType = DType::kQ8_0;
  static constexpr int64_t kBlockElems = 32;

  static uint32_t high_bits(const Block& b) {
    return static_cast<uint32_t>(b.qh[0]) | (static_cast<uint32_t>(b.qh[1]) << 8) |
           (static_cast<uint32_t>(b.qh[2]) << 16) | (static_cast<uint32_t>(b.qh[3]) << 24);
  }
  static void unpack(const Block& b, Unpacked& u) {
    u.d = f16_to_f32(b.d);
    const uint32_t qh = high_bits(b);
    for (int j = 0; j < 16; ++j) {
      const int lo = (b.qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
      const int hi = (b.qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
      u.q[j] = static_cast<int8_t>(lo - 16);
      u.q[j + 16] = static_cast<int8_t>(hi - 16);
    }
  }
  // Signed max m, d = m / -16, level = min(31, int(x/d + 16.5)).
  static void quantize(const float* x, Block& b);  // x[32]
};

}  // namespace frugal
