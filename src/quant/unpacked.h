// Unpacked blocks: the common integer form every quant format's unpack step produces (quant layer).
// Kernels are written once against these forms; only `unpack` differs per format.
#pragma once

#include <cstdint>
#include <cstring>

namespace frugal {

// A 32-element "type-0" block (Q4_0, Q5_0, Q8_0): value[i] = d * q[i].
struct Unpacked32 {
  static constexpr int kElems = 32;
  float d = 0.0f;
  int8_t q[kElems] = {};  // signed levels, offset already removed
};

// A 256-element K-quant super-block (Q4_K, Q5_K, Q6_K) in groups of 16 (the Q8_K bsums groups):
// value[i] = (d * scale[g]) * q[i] - (dmin * min[g]), g = i / 16.
struct UnpackedK {
  static constexpr int kElems = 256;
  static constexpr int kGroupElems = 16;
  static constexpr int kGroups = kElems / kGroupElems;
  float d = 0.0f;
  float dmin = 0.0f;
  int8_t q[kElems] = {};         // levels (unsigned for Q4_K/Q5_K, signed for Q6_K)
  int16_t scale[kGroups] = {};   // per 16-group integer scale
  int16_t min[kGroups] = {};     // per 16-group integer min (0 for Q6_K)
};

// Reads a block struct from possibly unaligned bytes (blocks are packed back to back in rows,
// so e.g. a Q4_0 block sits at 18-byte strides).
template <typename Block>
inline Block load_block(const void* p) {
  Block b;
  std::memcpy(&b, p, sizeof(Block));
  return b;
}

}  // namespace frugal
