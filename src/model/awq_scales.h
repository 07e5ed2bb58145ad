// AWQ-style per-channel scaling folded into the preceding RMSNorm (model layer). A norm's output
// column j feeds the same input column j of several matrices (attn_norm -> Q, K, V; ffn_norm ->
// gate, up). Multiplying those columns by s_j and dividing the norm weight by s_j leaves the
// float model exactly unchanged, but moves where each column falls on the quantization grid:
// columns with large activations get relatively finer steps. s_j = importance_j^(alpha/2),
// normalised to geometric mean 1, with alpha searched on a grid to minimise the quantization
// error measured in the original space, sum_j importance_j * (W_ij - Q(W s)_ij / s_j)^2, summed
// over the group's matrices (alpha = 0, no scaling, is a candidate: the search never does worse
// than not scaling, on this measure). See docs/design/imatrix.md for whether it helps.
#pragma once

#include <vector>

#include "core/expected.h"
#include "tensor/dtype.h"

namespace frugal {

struct AwqMatrix {
  const float* values = nullptr;  // [n_rows, n_cols] f32
  int64_t n_rows = 0;
  DType dtype = DType::kF32;      // what it will be quantized to
};

struct AwqChoice {
  float alpha = 0.0f;
  std::vector<float> scales;  // [n_cols]: multiply the matrices' column j, divide the norm's weight j
  double error_unscaled = 0;  // importance-weighted error at alpha = 0
  double error = 0;           // at the chosen alpha
};

// importance[n_cols]: the group's (shared) input mean squares. weighted: the candidates are
// quantized with the importance-weighted quantizer (importance_j / s_j^2 in the scaled space),
// else with the plain one. Errors: a matrix that does not quantize (row length off its block).
Expected<AwqChoice> search_awq_scales(const std::vector<AwqMatrix>& group, const std::vector<float>& importance,
                                      bool weighted);

}  // namespace frugal
