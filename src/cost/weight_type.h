// Weight and KV-cache storage types the planner prices: bytes per element and the tensor-core
// path their matmuls run on (cost layer). A type is data (a table row), not a switch.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cost/catalogue.h"

namespace frugal {

// Which peak rate of an accelerator a weight type's matmuls use.
enum class ComputePath {
  kF32,   // no tensor-core rate: half the BF16 rate (TF32-class)
  kBf16,  // BF16/FP16 tensor cores (also weight-only quants, dequantised to BF16 on GPUs)
  kFp8,   // FP8 tensor cores (falls back to BF16 where the device has none)
  kInt8,  // INT8 tensor cores / dot-product units (falls back to BF16)
};

struct WeightType {
  std::string name;             // "q4_k_m"
  double bytes_per_weight = 2;  // storage incl. block scales
  ComputePath compute = ComputePath::kBf16;
  bool gguf_block_quant = false;  // llama.cpp block format (CPUs run these on INT8 dot products)
};

// Known types: f32 4, f16/bf16 2, fp8/int8 1 (per-channel scales are negligible), q8_0 34/32,
// q6_k 210/256, q5_k_m ~5.69 bit, q4_k_m ~4.85 bit, q4_0 18/32, q3_k_m ~3.91 bit, q2_k 84/256,
// fp4 (NVFP4: 4 bits + an FP8 scale per 16) 0.5625.
const std::vector<WeightType>& weight_types();
std::optional<WeightType> find_weight_type(std::string_view name);  // case-insensitive
std::string weight_type_names();                                   // "f32, f16, ..." for messages

// Dense peak rate (ops/s) for a compute path on an accelerator, with the documented fallbacks.
double compute_peak_per_s(const Accelerator& hw, const WeightType& type);

}  // namespace frugal
