// Row-level quantize/dequantize templates over format traits (quant layer). One body serves every
// block format; only Format::unpack / Format::quantize differ. Rows may be unaligned.
#pragma once

#include <cstdint>
#include <cstring>

#include "quant/unpacked.h"

namespace frugal {

inline void expand_unpacked(const Unpacked32& u, float* y) {  // y[32]
  for (int i = 0; i < Unpacked32::kElems; ++i) y[i] = static_cast<float>(u.q[i]) * u.d;
}

inline void expand_unpacked(const UnpackedK& u, float* y) {  // y[256]
  for (int g = 0; g < UnpackedK::kGroups; ++g) {
    const float scale = u.d * static_cast<float>(u.scale[g]);
    const float offset = u.dmin * static_cast<float>(u.min[g]);
    for (int i = g * UnpackedK::kGroupElems; i < (g + 1) * UnpackedK::kGroupElems; ++i) {
      y[i] = scale * static_cast<float>(u.q[i]) - offset;
    }
  }
}

// x: k / Format::kBlockElems blocks -> y[k].
template <typename Format>
void dequantize_row_blocks(const void* x, float* y, int64_t k) {
  const auto* bytes = static_cast<const uint8_t*>(x);
  typename Format::Unpacked u;
  for (int64_t b = 0; b < k / Format::kBlockElems; ++b) {
    Format::unpack(load_block<typename Format::Block>(bytes + b * sizeof(typename Format::Block)), u);
    expand_unpacked(u, y + b * Format::kBlockElems);
  }
}

// x[k] -> y: k / Format::kBlockElems blocks.
template <typename Format>
void quantize_row_blocks(const float* x, void* y, int64_t k) {
  auto* bytes = static_cast<uint8_t*>(y);
  for (int64_t b = 0; b < k / Format::kBlockElems; ++b) {
    typename Format::Block block;
    Format::quantize(x + b * Format::kBlockElems, block);
    std::memcpy(bytes + b * sizeof(block), &block, sizeof(block));
  }
}

template <typename Format>
void dequantize_row_floats(const void* x, float* y, int64_t k) {
  const auto* bytes = static_cast<const uint8_t*>(x);
  for (int64_t i = 0; i < k; ++i) {
    typename Format::Elem e;
    std::memcpy(&e, bytes + i * sizeof(e), sizeof(e));
    y[i] = Format::to_f32(e);
  }
}

template <typename Format>
void quantize_row_floats(const float* x, void* y, int64_t k) {
  auto* bytes = static_cast<uint8_t*>(y);
  for (int64_t i = 0; i < k; ++i) {
    const typename Format::Elem e = Format::from_f32(x[i]);
    std::memcpy(bytes + i * sizeof(e), &e, sizeof(e));
  }
}

}  // namespace frugal
