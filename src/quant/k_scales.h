// Packed 6-bit sub-block scales and mins shared by Q4_K and Q5_K (quant layer).
// 12 bytes hold 8 scales and 8 mins: bytes 0-3 carry scale[0..3] (low 6 bits) and the top 2 bits
// of scale[4..7]; bytes 4-7 the same for mins; bytes 8-11 the low nibbles of scale[4..7] (low)
// and min[4..7] (high).
#pragma once

#include <cstdint>

namespace frugal {

inline constexpr int kKScaleBytes = 12;
inline constexpr int kKSubBlocks = 8;      // 32-element sub-blocks per 256-element super-block
inline constexpr int kKSubBlockElems = 32;

// scale[j], min[j] in [0, 63] for sub-block j.
inline void unpack_k_scales(const uint8_t* packed, uint8_t* scale, uint8_t* min) {
  for (int j = 0; j < 4; ++j) {
    scale[j] = packed[j] & 63;
    min[j] = packed[j + 4] & 63;
    scale[j + 4] = static_cast<uint8_t>((packed[j + 8] & 0x0f) | ((packed[j] >> 6) << 4));
    min[j + 4] = static_cast<uint8_t>((packed[j + 8] >> 4) | ((packed[j + 4] >> 6) << 4));
  }
}

inline void pack_k_scales(const uint8_t* scale, const uint8_t* min, uint8_t* packed) {
  for (int j = 0; j < 4; ++j) {
    packed[j] = static_cast<uint8_t>((scale[j] & 63) | ((scale[j + 4] >> 4) << 6));
    packed[j + 4] = static_cast<uint8_t>((min[j] & 63) | ((min[j + 4] >> 4) << 6));
    packed[j + 8] = static_cast<uint8_t>((scale[j + 4] & 0x0f) | ((min[j + 4] & 0x0f) << 4));
  }
}

}  // namespace frugal
