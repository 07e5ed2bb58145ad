// Importance-weighted quantization (quant layer): per-element error weights from the importance
// vector, then each format's weighted block quantizer.
#include "quant/weighted_quantize.h"

#include <cmath>
#include <cstring>
#include <string>

#include "quant/q4_0.h"
#include "quant/q4_k.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"
#include "quant/quantize.h"

namespace frugal {
namespace {

enum class SigmaScope { kNone, kRow, kBlock };

// One row x[row_len] -> blocks of Format, with element weights from importance[row_len].
template <typename Format>
void quantize_row_weighted(const float* x, const float* importance, int64_t row_len, SigmaScope scope,
                           float sigma_factor, uint8_t* out) {
  constexpr int64_t kN = Format::kBlockElems;
  double row_sq = 0;
  for (int64_t i = 0; i < row_len; ++i) row_sq += static_cast<double>(x[i]) * x[i];
  float w[kN];
  for (int64_t b = 0; b < row_len / kN; ++b) {
    const float* xb = x + b * kN;
    const float* ib = importance + b * kN;
    double sq = row_sq / static_cast<double>(row_len);
    if (scope == SigmaScope::kBlock) {
      sq = 0;
      for (int64_t i = 0; i < kN; ++i) sq += static_cast<double>(xb[i]) * xb[i];
      sq /= static_cast<double>(kN);
    }
    const float sigma2 = sigma_factor * static_cast<float>(sq);
    for (int64_t i = 0; i < kN; ++i) {
      w[i] = scope == SigmaScope::kNone ? ib[i] : ib[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
    }
    typename Format::Block block;
    Format::quantize(xb, block, w);
    std::memcpy(out + b * sizeof(block), &block, sizeof(block));
  }
}

using WeightedRow = void (*)(const float*, const float*, int64_t, uint8_t*);

template <typename Format, SigmaScope kScope, int kSigmaFactor>
void row_fn(const float* x, const float* importance, int64_t row_len, uint8_t* out) {
  quantize_row_weighted<Format>(x, importance, row_len, kScope, static_cast<float>(kSigmaFactor), out);
}

WeightedRow weighted_row(DType dst) {
  switch (dst) {
    case DType::kQ4_0: return row_fn<Q4_0, SigmaScope::kRow, 1>;
    case DType::kQ4_K: return row_fn<Q4_K, SigmaScope::kBlock, 2>;
    case DType::kQ5_K: return row_fn<Q5_K, SigmaScope::kBlock, 2>;
    case DType::kQ6_K: return row_fn<Q6_K, SigmaScope::kNone, 0>;
    default: return nullptr;
  }
}

}  // namespace

bool has_weighted_quantizer(DType dst) { return weighted_row(dst) != nullptr; }

Expected<std::vector<uint8_t>> quantize_rows_weighted(DType dst, const float* src, int64_t n_rows, int64_t row_len,
                                                      const float* importance) {
  const WeightedRow row = weighted_row(dst);
  if (importance == nullptr || row == nullptr) return quantize_rows(dst, src, n_rows, row_len);
  for (int64_t j = 0; j < row_len; ++j) {
    if (!std::isfinite(importance[j]) || importance[j] < 0.0f) {
      return invalid_argument("importance value " + std::to_string(importance[j]) + " at column " + std::to_string(j) +
                              " is negative or not finite");
    }
  }
  // Shape checks (block multiple, sizes) are quantize_rows's: run them on an empty matrix.
  if (auto check = quantize_rows(dst, src, 0, row_len); !check) return check.error();
  if (n_rows < 0) return invalid_argument("negative matrix size");
  const int64_t row_bytes = dtype_row_bytes(dst, row_len);
  std::vector<uint8_t> out(static_cast<size_t>(row_bytes * n_rows));
  for (int64_t r = 0; r < n_rows; ++r) row(src + r * row_len, importance, row_len, out.data() + r * row_bytes);
  return out;
}

double weighted_sq_error(const float* a, const float* b, int64_t n_rows, int64_t row_len, const float* importance) {
  double total = 0;
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t j = 0; j < row_len; ++j) {
      const double e = static_cast<double>(a[r * row_len + j]) - b[r * row_len + j];
      total += (importance ? importance[j] : 1.0) * e * e;
    }
  }
  return total;
}

}  // namespace frugal
