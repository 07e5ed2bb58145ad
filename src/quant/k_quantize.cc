// Q4_K, Q5_K and Q6_K weight quantizers (quant layer): the scale search lives in
// k_quant_search.cc; this file only packs levels and scales into each block layout.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/k_quant_search.h"
#include "quant/q4_k.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"

namespace frugal {

void Q4_K::quantize(const float* x, Block& b, const float* w) {
  uint8_t sc[kKSubBlocks], mn[kKSubBlocks], levels[256];
  quantize_k_affine(x, kMaxLevel, b.d, b.dmin, sc, mn, levels, w);
  pack_k_scales(sc, mn, b.scales);
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      b.qs[32 * c + l] = static_cast<uint8_t>(levels[64 * c + l] | (levels[64 * c + 32 + l] << 4));
    }
  }
}

void Q5_K::quantize(const float* x, Block& b, const float* w) {
  uint8_t sc[kKSubBlocks], mn[kKSubBlocks], levels[256];
  quantize_k_affine(x, kMaxLevel, b.d, b.dmin, sc, mn, levels, w);
  pack_k_scales(sc, mn, b.scales);
  std::memset(b.qh, 0, sizeof(b.qh));
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      const int lo = levels[64 * c + l], hi = levels[64 * c + 32 + l];
      b.qs[32 * c + l] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
      b.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
    }
  }
}

void Q6_K::quantize(const float* x, Block& b, const float* w) {
  constexpr int kGroups = 16, kGroupElems = 16, kMaxPos = 31, kMaxScaleCode = 127;
  float scales[kGroups];
  float amax = 0.0f;
  for (int g = 0; g < kGroups; ++g) {
    scales[g] = fit_symmetric(x + g * kGroupElems, kGroupElems, kMaxPos, w ? w + g * kGroupElems : nullptr);
    amax = std::max(amax, std::fabs(scales[g]));
  }
  b.d = f32_to_f16(amax / kMaxScaleCode);
  const float d = f16_to_f32(b.d);
  std::memset(b.ql, 0, sizeof(b.ql));
  std::memset(b.qh, 0, sizeof(b.qh));
  for (int g = 0; g < kGroups; ++g) {
    const int code = d > 0.0f ? static_cast<int>(std::nearbyint(scales[g] / d)) : 0;
    b.scales[g] = static_cast<int8_t>(std::clamp(code, -kMaxScaleCode, kMaxScaleCode));
    const float scale = d * static_cast<float>(b.scales[g]);
    for (int i = g * kGroupElems; i < (g + 1) * kGroupElems; ++i) {
      const int q = scale != 0.0f ? static_cast<int>(std::nearbyint(x[i] / scale)) : 0;
      const int level = std::clamp(q, -(kMaxPos + 1), kMaxPos) + 32;
      const int half = i / 128, part = (i % 128) / 32, l = i % 32;
      b.ql[64 * half + l + 32 * (part & 1)] |= static_cast<uint8_t>((level & 0x0f) << (part < 2 ? 0 : 4));
      b.qh[32 * half + l] |= static_cast<uint8_t>((level >> 4) << (2 * part));
    }
  }
}

}  // namespace frugal
