// Whole-matrix quantize/dequantize (quant layer): a dtype -> row codec table over the format traits.
#include "quant/quantize.h"

#include <string>

#include "quant/float_formats.h"
#include "quant/q4_0.h"
#include "quant/q4_k.h"
#include "quant/q5_0.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"
#include "quant/q8_0.h"
#include "quant/q8_k.h"
#include "quant/row_codec.h"

namespace frugal {
namespace {

using QuantizeRow = void (*)(const float* x, void* y, int64_t k);
using DequantizeRow = void (*)(const void* x, float* y, int64_t k);

struct RowCodec {
  QuantizeRow quantize = nullptr;
  DequantizeRow dequantize = nullptr;
};

RowCodec row_codec(DType dtype) {
  switch (dtype) {
    case DType::kF32: return {quantize_row_floats<F32Format>, dequantize_row_floats<F32Format>};
    case DType::kF16: return {quantize_row_floats<F16Format>, dequantize_row_floats<F16Format>};
    case DType::kBF16: return {quantize_row_floats<BF16Format>, dequantize_row_floats<BF16Format>};
    case DType::kQ4_0: return {quantize_row_blocks<Q4_0>, dequantize_row_blocks<Q4_0>};
    case DType::kQ5_0: return {quantize_row_blocks<Q5_0>, dequantize_row_blocks<Q5_0>};
    case DType::kQ8_0: return {quantize_row_blocks<Q8_0>, dequantize_row_blocks<Q8_0>};
    case DType::kQ4_K: return {quantize_row_blocks<Q4_K>, dequantize_row_blocks<Q4_K>};
    case DType::kQ5_K: return {quantize_row_blocks<Q5_K>, dequantize_row_blocks<Q5_K>};
    case DType::kQ6_K: return {quantize_row_blocks<Q6_K>, dequantize_row_blocks<Q6_K>};
    case DType::kQ8_K: return {quantize_row_blocks<Q8_K>, dequantize_row_q8_k};
    default: return {};
  }
}

Status check_shape(DType dtype, int64_t n_rows, int64_t row_len) {
  if (!row_codec(dtype).quantize) {
    return invalid_argument("no quantizer for dtype " + std::string(dtype_name(dtype)));
  }
  if (n_rows < 0 || row_len < 0) return invalid_argument("negative matrix size");
  const int64_t block = dtype_traits(dtype).block_elems;
  if (row_len % block != 0) {
    return invalid_argument("row length " + std::to_string(row_len) + " is not a multiple of " +
                            std::string(dtype_name(dtype)) + "'s block size " + std::to_string(block));
  }
  return Status::ok();
}

}  // namespace

bool has_quantizer(DType dtype) { return row_codec(dtype).quantize != nullptr; }

Expected<std::vector<uint8_t>> quantize_rows(DType dst, const float* src, int64_t n_rows,
                                             int64_t row_len) {
  if (Status s = check_shape(dst, n_rows, row_len); !s.is_ok()) return s;
  const int64_t row_bytes = dtype_row_bytes(dst, row_len);
  std::vector<uint8_t> out(static_cast<size_t>(row_bytes * n_rows));
  const QuantizeRow quantize = row_codec(dst).quantize;
  for (int64_t r = 0; r < n_rows; ++r) quantize(src + r * row_len, out.data() + r * row_bytes, row_len);
  return out;
}

Expected<std::vector<float>> dequantize_rows(DType src_dtype, const void* src, int64_t n_rows,
                                             int64_t row_len) {
  if (Status s = check_shape(src_dtype, n_rows, row_len); !s.is_ok()) return s;
  const int64_t row_bytes = dtype_row_bytes(src_dtype, row_len);
  std::vector<float> out(static_cast<size_t>(row_len * n_rows));
  const DequantizeRow dequantize = row_codec(src_dtype).dequantize;
  const auto* bytes = static_cast<const uint8_t*>(src);
  for (int64_t r = 0; r < n_rows; ++r) dequantize(bytes + r * row_bytes, out.data() + r * row_len, row_len);
  return out;
}

}  // namespace frugal
