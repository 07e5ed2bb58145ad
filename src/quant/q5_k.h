// Q5_K block format: 256 weights in 8 sub-blocks of 32, 5-bit levels with 6-bit scales/mins
// (quant layer; GGML type 13).
#pragma once

#include <cstdint>

#include "core/fp16.h"
#include "quant/k_scales.h"
#include "quant/unpacked.h"
#include "tensor/dtype.h"

namespace frugal {

// Low 4 bits as in Q4_K; bit 4 of element 64c + l is bit 2c of qh[l], of element 64c + 32 + l
// bit 2c+1 of qh[l]. value = d*scale[s]*level - dmin*min[s].
struct BlockQ5_K {
  uint16_t d;                       // f16 super-block scale of the scales
  uint16_t dmin;                    // f16 super-block scale of the mins
  uint8_t scales[kKScaleBytes];     // packed 6-bit scales/mins, see k_scales.h
  uint8_t qh[32];                   // high bits
  uint8_t qs[128];                  // low nibbles
};
static_assert(sizeof(BlockQ5_K) == 176, "Q5_K block is 176 bytes in GGUF");

struct Q5_K {
  using Block = BlockQ5_K;
  using Unpacked = UnpackedK;
  static constexpr DType kDType = DType::kQ5_K;
  static constexpr DType kActDType = DType::kQ8_K;
  static constexpr int64_t kBlockElems = 256;
  static constexpr int kMaxLevel = 31;

  static void unpack(const Block& b, Unpacked& u) {
    u.d = f16_to_f32(b.d);
    u.dmin = f16_to_f32(b.dmin);
    uint8_t sc[kKSubBlocks], mn[kKSubBlocks];
    unpack_k_scales(b.scales, sc, mn);
    for (int g = 0; g < UnpackedK::kGroups; ++g) {
      u.scale[g] = sc[g / 2];
      u.min[g] = mn[g / 2];
    }
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo_hi = (b.qh[l] >> (2 * c)) & 1;
        const int hi_hi = (b.qh[l] >> (2 * c + 1)) & 1;
        u.q[64 * c + l] = static_cast<int8_t>((b.qs[32 * c + l] & 0x0f) | (lo_hi << 4));
        u.q[64 * c + 32 + l] = static_cast<int8_t>((b.qs[32 * c + l] >> 4) | (hi_hi << 4));
      }
    }
  }
  // w: optional per-element error weights w[256] (importance-weighted scale search; see
  // quant/weighted_quantize.h); nullptr = the plain quantizer.
  static void quantize(const float* x, Block& b, const float* w = nullptr);  // x[256]
};

}  // namespace frugal
