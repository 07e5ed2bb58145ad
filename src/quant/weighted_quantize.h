// Importance-weighted quantization (quant layer): the weight quantizers of Q4_0, Q4_K, Q5_K and
// Q6_K search their scales to minimise sum_j importance[j] * (w_j - w^_j)^2 over a row instead of
// the plain squared error, where importance[j] is the mean square of the activation that column j
// multiplies (an importance matrix entry, docs/design/imatrix.md). The output is the ordinary
// block format: nothing changes for the kernels that read it.
#pragma once

#include <cstdint>
#include <vector>

#include "core/expected.h"
#include "tensor/dtype.h"

namespace frugal {

// Whether dst has an importance-weighted quantizer (Q4_0, Q4_K, Q5_K, Q6_K).
bool has_weighted_quantizer(DType dst);

// src: [n_rows, row_len] f32, importance: [row_len] (>= 0, finite) -> n_rows rows of dst.
// For a dtype without a weighted quantizer, or importance == nullptr, this is quantize_rows.
// kInvalidArgument as quantize_rows, or for a negative / non-finite importance value.
// Element error weights (the method of llama.cpp's quantize_row_*_impl, our own code):
//   Q4_0:       importance[j] * sqrt(sigma2 + w_j^2), sigma2 = mean w^2 over the row
//   Q4_K, Q5_K: importance[j] * sqrt(sigma2 + w_j^2), sigma2 = 2 * mean w^2 over the 256-block
//   Q6_K:       importance[j]
// The sqrt term keeps large weights from being flattened where the activations are small.
Expected<std::vector<uint8_t>> quantize_rows_weighted(DType dst, const float* src, int64_t n_rows, int64_t row_len,
                                                      const float* importance);

// sum over rows and columns of importance[j] * (a[r, j] - b[r, j])^2 (importance == nullptr: 1).
double weighted_sq_error(const float* a, const float* b, int64_t n_rows, int64_t row_len, const float* importance);

}  // namespace frugal
