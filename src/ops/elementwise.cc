#include "ops/elementwise.h"

#include <algorithm>
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

void gelu_tanh_inplace(float* x, int64_t count, const KernelTable& table) {
  // 0.5 (1 + tanh(u)) = 1 / (1 + exp(-2u)): one vector exp per element, in L1-sized chunks.
  constexpr float kMinusTwoSqrt2OverPi = -2.0f * 0.7978845608028654f;
  constexpr int64_t kChunk = 512;
  float e[kChunk];
  for (int64_t i0 = 0; i0 < count; i0 += kChunk) {
    const int64_t n = std::min(kChunk, count - i0);
    float* xc = x + i0;
    for (int64_t i = 0; i < n; ++i) e[i] = kMinusTwoSqrt2OverPi * (xc[i] + 0.044715f * xc[i] * xc[i] * xc[i]);
    table.exp_shifted_f32(e, n, 0.0f);  // exp(-2u); +inf for large negative x, then x / inf = -0
    for (int64_t i = 0; i < n; ++i) xc[i] = xc[i] / (1.0f + e[i]);
  }
}

void gelu_tanh_inplace(float* x, int64_t count) { gelu_tanh_inplace(x, count, kernels()); }

void silu_inplace(float* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) x[i] = x[i] / (1.0f + std::exp(-x[i]));
}

void silu_inplace(float* x, int64_t count, const KernelTable& table) {
  constexpr int64_t kChunk = 512;
  float e[kChunk];
  for (int64_t i0 = 0; i0 < count; i0 += kChunk) {
    const int64_t n = std::min(kChunk, count - i0);
    float* xc = x + i0;
    for (int64_t i = 0; i < n; ++i) e[i] = -xc[i];
    table.exp_shifted_f32(e, n, 0.0f);  // exp(-x); +inf for large negative x, then x / inf = -0
    for (int64_t i = 0; i < n; ++i) xc[i] = xc[i] / (1.0f + e[i]);
  }
}

void swiglu_inplace(float* gate, const float* up, int64_t count) { kernels().silu_mul_f32(gate, up, count); }

void add_inplace(float* x, const float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) x[i] += y[i];
}

void add_bias_rows(float* x, const float* bias, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r) add_inplace(x + r * n, bias, n);
}

}  // namespace frugal
