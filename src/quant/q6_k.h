// Q6_K block format: 256 weights in 16 groups of 16, 6-bit levels with int8 scales (quant layer;
// GGML type 14).
#pragma once

#include <cstdint>

#include "core/fp16.h"
#include "quant/unpacked.h"
#include "tensor/dtype.h"

namespace frugal {

// Two halves of 128 elements; half h uses ql[64h..], qh[32h..], scales[8h..]. Within a half, for
// l < 32 (bits of qh[l]: 0-1, 2-3, 4-5, 6-7 in order):
//   element l      = low nibble of ql[l]      | qh bits 0-1 << 4
//   element l + 32 = low nibble of ql[l + 32] | qh bits 2-3 << 4
//   element l + 64 = high nibble of ql[l]     | qh bits 4-5 << 4
//   element l + 96 = high nibble of ql[l + 32]| qh bits 6-7 << 4
// value = d * scales[i / 16] * (level - 32).
struct BlockQ6_K {
  uint8_t ql[128];     // low 4 bits
  uint8_t qh[64];      // high 2 bits
  int8_t scales[16];   // per 16-element group
  uint16_t d;          // f16 super-block scale
};
static_assert(sizeof(BlockQ6_K) == 210, "Q6_K block is 210 bytes in GGUF");

struct Q6_K {
  using Block = BlockQ6_K;
  using Unpacked = UnpackedK;
  static constexpr DType kDType = DType::kQ6_K;
  static constexpr DType kActDType = DType::kQ8_K;
  static constexpr int64_t kBlockElems = 256;

  // Level of element l + 32*part (part 0..3) in half `half`, before removing the offset 32.
  static int level(const Block& b, int half, int part, int l) {
    const uint8_t ql = b.ql[64 * half + l + 32 * (part & 1)];
    const int low = (part < 2) ? (ql & 0x0f) : (ql >> 4);
    const int high = (b.qh[32 * half + l] >> (2 * part)) & 3;
    return low | (high << 4);
  }
  static void unpack(const Block& b, Unpacked& u) {
    u.d = f16_to_f32(b.d);
    u.dmin = 0.0f;
    for (int g = 0; g < UnpackedK::kGroups; ++g) {
      u.scale[g] = b.scales[g];
      u.min[g] = 0;
    }
    for (int half = 0; half < 2; ++half) {
      for (int part = 0; part < 4; ++part) {
        for (int l = 0; l < 32; ++l) {
          u.q[128 * half + 32 * part + l] = static_cast<int8_t>(level(b, half, part, l) - 32);
        }
      }
    }
  }
  // w: optional per-element error weights w[256] (importance-weighted scale search; see
  // quant/weighted_quantize.h); nullptr = the plain quantizer.
  static void quantize(const float* x, Block& b, const float* w = nullptr);  // x[256]
};

}  // namespace frugal
