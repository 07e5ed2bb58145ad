// Plain float element formats F32, F16, BF16 as traits (quant layer), so kernels treat them
// like the block formats: one template body, per-format load/store.
#pragma once

#include <cstdint>

#include "core/fp16.h"
#include "tensor/dtype.h"

namespace frugal {

struct F32Format {
  using Elem = float;
  static constexpr DType kDType = DType::kF32;
  static float to_f32(float x) { return x; }
  static float from_f32(float x) { return x; }
};

struct F16Format {
  using Elem = uint16_t;
  static constexpr DType kDType = DType::kF16;
  static float to_f32(uint16_t x) { return f16_to_f32(x); }
  static uint16_t from_f32(float x) { return f32_to_f16(x); }  // round to nearest even
};

struct BF16Format {
  using Elem = uint16_t;
  static constexpr DType kDType = DType::kBF16;
  static float to_f32(uint16_t x) { return bf16_to_f32(x); }
  static uint16_t from_f32(float x) { return f32_to_bf16(x); }  // round to nearest even
};

}  // namespace frugal
