#include "ops/rope.h"

#include <cmath>

#include "core/check.h"

namespace frugal {

RopeTable::RopeTable(const RopeParams& params) : params_(params) {
  CHECK(params.n_rot > 0 && params.n_rot % 2 == 0, "rope: n_rot must be positive and even");
  const int32_t half = params.n_rot / 2;
  CHECK(params.freq_factors.empty() || static_cast<int32_t>(params.freq_factors.size()) == half,
        "rope: freq_factors must have n_rot/2 entries");
  inv_freq_.resize(static_cast<size_t>(half));
  // theta_scale^i computed by repeated multiplication in f32, as ggml does, to match its rounding.
  const float theta_scale = std::pow(params.freq_base, -2.0f / static_cast<float>(params.n_rot));
  float theta = 1.0f;
  for (int32_t i = 0; i < half; ++i) {
    const float factor = params.freq_factors.empty() ? 1.0f : params.freq_factors[static_cast<size_t>(i)];
    inv_freq_[static_cast<size_t>(i)] = theta / factor;
    theta *= theta_scale;
  }
}

void RopeTable::apply(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int32_t* positions) const {
  const int32_t half = params_.n_rot / 2;
  std::vector<float> cos_v(static_cast<size_t>(half)), sin_v(static_cast<size_t>(half));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float pos = static_cast<float>(positions[t]) * params_.freq_scale;
    for (int32_t i = 0; i < half; ++i) {
      const float angle = pos * inv_freq_[static_cast<size_t>(i)];
      cos_v[static_cast<size_t>(i)] = std::cos(angle);
      sin_v[static_cast<size_t>(i)] = std::sin(angle);
    }
    for (int64_t h = 0; h < n_heads; ++h) {
      float* v = x + (t * n_heads + h) * head_dim;
      for (int32_t i = 0; i < half; ++i) {
        const int64_t i0 = params_.mode == RopeMode::kNormal ? 2 * i : i;
        const int64_t i1 = params_.mode == RopeMode::kNormal ? 2 * i + 1 : i + half;
        const float c = cos_v[static_cast<size_t>(i)], s = sin_v[static_cast<size_t>(i)];
        const float a = v[i0], b = v[i1];
        v[i0] = a * c - b * s;
        v[i1] = a * s + b * c;
      }
    }
  }
}

}  // namespace frugal
