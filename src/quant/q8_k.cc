// Reference Q8_K activation quantizer (quant layer), ggml's rounding.
#include "quant/q8_k.h"

#include <cmath>

#include "quant/unpacked.h"

namespace frugal {

void Q8_K::quantize(const float* x, Block& b) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < 256; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax == 0.0f) {
    b.d = 0.0f;
    for (int i = 0; i < 256; ++i) b.qs[i] = 0;
    for (int g = 0; g < 16; ++g) b.bsums[g] = 0;
    return;
  }
  const float iscale = -127.0f / max;
  for (int i = 0; i < 256; ++i) {
    const int v = static_cast<int>(std::nearbyint(iscale * x[i]));  // ties to even
    b.qs[i] = static_cast<int8_t>(v < 127 ? v : 127);
  }
  for (int g = 0; g < 16; ++g) {
    int sum = 0;
    for (int i = 0; i < kGroupElems; ++i) sum += b.qs[g * kGroupElems + i];
    b.bsums[g] = static_cast<int16_t>(sum);
  }
  b.d = 1.0f / iscale;
}

void Q8_K::dequantize(const Block& b, float* y) {
  for (int i = 0; i < 256; ++i) y[i] = b.d * static_cast<float>(b.qs[i]);
}

void dequantize_row_q8_k(const void* x, float* y, int64_t k) {
  const auto* bytes = static_cast<const uint8_t*>(x);
  for (int64_t b = 0; b < k / Q8_K::kBlockElems; ++b) {
    Q8_K::dequantize(load_block<BlockQ8_K>(bytes + b * sizeof(BlockQ8_K)), y + b * Q8_K::kBlockElems);
  }
}

void q8_k_block_sums(const void* row, int64_t n_blocks, int64_t stride, int32_t* sums, float* scales) {
  const auto* bytes = static_cast<const uint8_t*>(row);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const BlockQ8_K block = load_block<BlockQ8_K>(bytes + b * sizeof(BlockQ8_K));
    for (int g = 0; g < 16; ++g) sums[(16 * b + g) * stride] = block.bsums[g];
    scales[b * stride] = block.d;
  }
}

}  // namespace frugal
