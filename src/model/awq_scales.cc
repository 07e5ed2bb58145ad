// AWQ-style per-channel scale search (model layer): a grid over alpha, each candidate quantized,
// dequantized and compared in the original space.
#include "model/awq_scales.h"

#include <algorithm>
#include <cmath>

#include "quant/quantize.h"
#include "quant/weighted_quantize.h"

namespace frugal {
namespace {

constexpr int kAlphaSteps = 10;  // alpha in {0, 0.1, ..., 1}

std::vector<float> scales_for(const std::vector<float>& importance, float alpha) {
  const size_t n = importance.size();
  // A floor keeps dead channels (importance 0) from getting scale 0.
  float max_imp = 0.0f;
  for (float v : importance) max_imp = std::max(max_imp, v);
  const float floor = std::max(max_imp * 1e-6f, 1e-12f);
  std::vector<float> s(n);
  double log_sum = 0;
  for (size_t j = 0; j < n; ++j) {
    s[j] = std::pow(std::max(importance[j], floor), alpha / 2.0f);
    log_sum += std::log(static_cast<double>(s[j]));
  }
  const float norm = static_cast<float>(std::exp(-log_sum / static_cast<double>(n)));  // geometric mean 1
  for (float& v : s) v *= norm;
  return s;
}

Expected<double> group_error(const std::vector<AwqMatrix>& group, const std::vector<float>& importance,
                             const std::vector<float>& s, bool weighted) {
  const int64_t n_cols = static_cast<int64_t>(importance.size());
  std::vector<float> scaled_importance(importance.size());
  for (size_t j = 0; j < importance.size(); ++j) scaled_importance[j] = importance[j] / (s[j] * s[j]);
  double total = 0;
  for (const AwqMatrix& m : group) {
    std::vector<float> scaled(static_cast<size_t>(m.n_rows * n_cols));
    for (int64_t r = 0; r < m.n_rows; ++r) {
      for (int64_t j = 0; j < n_cols; ++j) scaled[static_cast<size_t>(r * n_cols + j)] = m.values[r * n_cols + j] * s[static_cast<size_t>(j)];
    }
    auto q = quantize_rows_weighted(m.dtype, scaled.data(), m.n_rows, n_cols, weighted ? scaled_importance.data() : nullptr);
    if (!q) return q.error();
    auto back = dequantize_rows(m.dtype, q->data(), m.n_rows, n_cols);
    if (!back) return back.error();
    for (int64_t r = 0; r < m.n_rows; ++r) {
      for (int64_t j = 0; j < n_cols; ++j) (*back)[static_cast<size_t>(r * n_cols + j)] /= s[static_cast<size_t>(j)];
    }
    total += weighted_sq_error(m.values, back->data(), m.n_rows, n_cols, importance.data());
  }
  return total;
}

}  // namespace

Expected<AwqChoice> search_awq_scales(const std::vector<AwqMatrix>& group, const std::vector<float>& importance,
                                      bool weighted) {
  AwqChoice best;
  best.scales.assign(importance.size(), 1.0f);
  auto unscaled = group_error(group, importance, best.scales, weighted);
  if (!unscaled) return unscaled.error();
  best.error_unscaled = best.error = *unscaled;
  for (int step = 1; step <= kAlphaSteps; ++step) {
    const float alpha = static_cast<float>(step) / kAlphaSteps;
    std::vector<float> s = scales_for(importance, alpha);
    auto err = group_error(group, importance, s, weighted);
    if (!err) return err.error();
    if (*err < best.error) {
      best.error = *err;
      best.alpha = alpha;
      best.scales = std::move(s);
    }
  }
  return best;
}

}  // namespace frugal
