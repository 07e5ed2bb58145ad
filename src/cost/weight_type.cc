#include "cost/weight_type.h"

#include <algorithm>
#include <cctype>

namespace frugal {

const std::vector<WeightType>& weight_types() {
  static const std::vector<WeightType> kTypes = {
      {"f32", 4.0, ComputePath::kF32, false},
      {"f16", 2.0, ComputePath::kBf16, false},
      {"bf16", 2.0, ComputePath::kBf16, false},
      {"fp8", 1.0, ComputePath::kFp8, false},
      {"int8", 1.0, ComputePath::kInt8, false},
      {"q8_0", 34.0 / 32.0, ComputePath::kBf16, true},
      {"q6_k", 210.0 / 256.0, ComputePath::kBf16, true},
      {"q5_k_m", 5.69 / 8.0, ComputePath::kBf16, true},
      {"q4_k_m", 4.85 / 8.0, ComputePath::kBf16, true},
      {"q4_0", 18.0 / 32.0, ComputePath::kBf16, true},
      {"q3_k_m", 3.91 / 8.0, ComputePath::kBf16, true},
      {"q2_k", 84.0 / 256.0, ComputePath::kBf16, true},
      {"fp4", 0.5625, ComputePath::kFp8, false},
  };
  return kTypes;
}

std::optional<WeightType> find_weight_type(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const WeightType& t : weight_types()) {
    if (t.name == lower) return t;
  }
  return std::nullopt;
}

std::string weight_type_names() {
  std::string out;
  for (const WeightType& t : weight_types()) out += (out.empty() ? "" : ", ") + t.name;
  return out;
}

double compute_peak_per_s(const Accelerator& hw, const WeightType& type) {
  const double bf16 = hw.bf16_dense_flops_per_s;
  // CPUs run llama.cpp block quants on INT8 dot-product instructions.
  if (hw.kind == AcceleratorKind::kCpu && type.gguf_block_quant && hw.int8_dense_ops_per_s > 0) {
    return hw.int8_dense_ops_per_s;
  }
  switch (type.compute) {
    case ComputePath::kF32: return bf16 / 2;
    case ComputePath::kBf16: return bf16;
    case ComputePath::kFp8: return hw.fp8_dense_flops_per_s > 0 ? hw.fp8_dense_flops_per_s : bf16;
    case ComputePath::kInt8: return hw.int8_dense_ops_per_s > 0 ? hw.int8_dense_ops_per_s : bf16;
  }
  return bf16;
}

}  // namespace frugal
