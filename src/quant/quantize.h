// Whole-matrix quantize/dequantize for the model writer and tools (quant layer). Scalar
// reference code; hot-path conversions go through the kernel tables instead.
#pragma once

#include <cstdint>
#include <vector>

#include "core/expected.h"
#include "tensor/dtype.h"

namespace frugal {

// src: [n_rows, row_len] f32 -> n_rows rows of dtype_row_bytes(dst, row_len) bytes.
// Deterministic. kInvalidArgument when row_len is not a multiple of dst's block size, a size is
// negative, or dst has no quantizer (supported: F32, F16, BF16, Q4_0, Q5_0, Q8_0, Q4_K, Q5_K,
// Q6_K, Q8_K).
Expected<std::vector<uint8_t>> quantize_rows(DType dst, const float* src, int64_t n_rows,
                                             int64_t row_len);

// src: n_rows rows of dtype src_dtype, each row_len elements -> [n_rows, row_len] f32.
// kInvalidArgument as for quantize_rows.
Expected<std::vector<float>> dequantize_rows(DType src_dtype, const void* src, int64_t n_rows,
                                             int64_t row_len);

// Whether quantize_rows/dequantize_rows handle this dtype.
bool has_quantizer(DType dtype);

}  // namespace frugal
