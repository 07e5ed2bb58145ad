// Reference quantizers of the 32-element formats Q4_0, Q5_0, Q8_0 (quant layer), following
// ggml's reference rounding so our activations and weights match llama.cpp's bit for bit.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/k_quant_search.h"
#include "quant/q4_0.h"
#include "quant/q5_0.h"
#include "quant/q8_0.h"

namespace frugal {
namespace {

// The element of largest magnitude, sign kept (first one on ties).
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  return max;
}

// Levels in [0, 2*half_levels - 1] with scale d = max / -half_levels (ggml's type-0 rounding:
// truncation of x/d + half_levels + 0.5).
void quantize_offset_levels(const float* x, int half_levels, uint16_t& d_f16, int* levels) {
  const float max = signed_absmax(x, 32);
  const float d = max / static_cast<float>(-half_levels);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  d_f16 = f32_to_f16(d);
  const int max_level = 2 * half_levels - 1;
  for (int i = 0; i < 32; ++i) {
    const int level = static_cast<int>(x[i] * id + static_cast<float>(half_levels) + 0.5f);
    levels[i] = level < max_level ? level : max_level;
  }
}

}  // namespace

void Q4_0::quantize(const float* x, Block& b, const float* w) {
  int levels[32];
  if (w == nullptr) {
    quantize_offset_levels(x, 8, b.d, levels);
  } else {  // weighted search over the scale, levels -8..7 stored with offset 8
    const float d = fit_symmetric(x, 32, 7, w);
    b.d = f32_to_f16(d);
    const float dq = f16_to_f32(b.d);
    for (int i = 0; i < 32; ++i) {
      const int q = dq != 0.0f ? static_cast<int>(std::nearbyint(x[i] / dq)) : 0;
      levels[i] = std::clamp(q, -8, 7) + 8;
    }
  }
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(levels[j] | (levels[j + 16] << 4));
}

void Q5_0::quantize(const float* x, Block& b) {
  int levels[32];
  quantize_offset_levels(x, 16, b.d, levels);
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    b.qs[j] = static_cast<uint8_t>((levels[j] & 0x0f) | ((levels[j + 16] & 0x0f) << 4));
    qh |= static_cast<uint32_t>((levels[j] >> 4) & 1) << j;
    qh |= static_cast<uint32_t>((levels[j + 16] >> 4) & 1) << (j + 16);
  }
  for (int i = 0; i < 4; ++i) b.qh[i] = static_cast<uint8_t>(qh >> (8 * i));
}

void Q8_0::quantize(const float* x, Block& b) {
  float amax = 0.0f;
  for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b.d = f32_to_f16(d);
  for (int i = 0; i < 32; ++i) b.qs[i] = static_cast<int8_t>(std::roundf(x[i] * id));
}

}  // namespace frugal
