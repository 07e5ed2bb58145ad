#include "ops/elementwise.h"

#include <cmath>

#include "kernels/kernel_table.h"

namespace frugal {

void rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * n;
    float* yr = out + r * n;
    // Sum of squares in double, as ggml does (ggml_float), so the norm does not depend on n's size.
    double sum_sq = 0.0;
    for (int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(xr[i]) * xr[i];
    const float mean = static_cast<float>(sum_sq / static_cast<double>(n));
    const float scale = 1.0f / std::sqrt(mean + eps);
    for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] * scale * weight[i];
  }
}

void layer_norm(const float* x, const float* weight, const float* bias, int64_t n_rows, int64_t n, float eps,
                float* out) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* xr = x + r * n;
    float* yr = out + r * n;
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += xr[i];
    const double mean = sum / static_cast<double>(n);
    double sum_sq = 0.0;
    for (int64_t i = 0; i < n; ++i) sum_sq += (xr[i] - mean) * (xr[i] - mean);
    const float inv_std = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(n) + eps));
    const float mean_f = static_cast<float>(mean);
    for (int64_t i = 0; i < n; ++i) {
      float v = (xr[i] - mean_f) * inv_std;
      if (weight != nullptr) v *= weight[i];
      if (bias != nullptr) v += bias[i];
      yr[i] = v;
    }
  }
}

void gelu_tanh_inplace(float* x, int64_t count) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = 0; i < count; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
  }
}

void silu_inplace(float* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) x[i] = x[i] / (1.0f + std::exp(-x[i]));
}

void swiglu_inplace(float* gate, const float* up, int64_t count) { kernels().silu_mul_f32(gate, up, count); }

void add_inplace(float* x, const float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) x[i] += y[i];
}

void add_bias_rows(float* x, const float* bias, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r) add_inplace(x + r * n, bias, n);
}

}  // namespace frugal
