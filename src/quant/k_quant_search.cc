// Scale searches for the K-quant weight quantizers (quant layer).
#include "quant/k_quant_search.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/fp16.h"
#include "quant/k_scales.h"

namespace frugal {
namespace {

// Candidate inverse scales are (levels + step * kGridStep) / range for step in
// [-kGridSteps, kGridSteps]: stretching or shrinking the grid trades clipping of the extremes
// against resolution in the bulk.
constexpr int kGridSteps = 10;
constexpr float kGridStep = 0.1f;

int clamp_level(float v, int lo, int hi) {
  const int q = static_cast<int>(std::nearbyint(v));
  return std::clamp(q, lo, hi);
}

struct Candidate {
  float scale, offset, err;
};

// Least-squares (scale, offset) for fixed levels q, with offset >= 0 enforced.
Candidate refit_affine(const float* x, const int* q, int n) {
  double sq = 0, sqq = 0, sx = 0, sxq = 0;
  for (int i = 0; i < n; ++i) {
    sq += q[i];
    sqq += static_cast<double>(q[i]) * q[i];
    sx += x[i];
    sxq += static_cast<double>(x[i]) * q[i];
  }
  const double det = n * sqq - sq * sq;
  double scale = 0, offset = 0;
  if (det > 0) {
    scale = (n * sxq - sq * sx) / det;
    offset = (scale * sq - sx) / n;
  }
  if (offset < 0 || scale <= 0) {
    offset = 0;
    scale = sqq > 0 ? std::max(0.0, sxq / sqq) : 0.0;
  }
  double err = 0;
  for (int i = 0; i < n; ++i) {
    const double e = scale * q[i] - offset - x[i];
    err += e * e;
  }
  return {static_cast<float>(scale), static_cast<float>(offset), static_cast<float>(err)};
}

}  // namespace

int affine_level(float x, float scale, float offset, int max_level) {
  if (scale == 0.0f) return 0;
  return clamp_level((x + offset) / scale, 0, max_level);
}

AffineFit fit_affine(const float* x, int n, int max_level) {
  float lo = 0.0f, hi = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  if (!(hi > lo)) return {0.0f, -lo};  // constant block at or below zero
  Candidate best{0.0f, -lo, std::numeric_limits<float>::infinity()};
  int q[256];
  for (int step = -kGridSteps; step <= kGridSteps; ++step) {
    const float iscale = (static_cast<float>(max_level) + kGridStep * step) / (hi - lo);
    for (int i = 0; i < n; ++i) q[i] = clamp_level(iscale * (x[i] - lo), 0, max_level);
    const Candidate c = refit_affine(x, q, n);
    if (c.err < best.err) best = c;
  }
  return {best.scale, best.offset};
}

float fit_symmetric(const float* x, int n, int max_pos) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  }
  if (amax == 0.0f) return 0.0f;
  const int lo = -(max_pos + 1);
  float best_scale = 0.0f, best_err = std::numeric_limits<float>::infinity();
  for (int step = -kGridSteps; step <= kGridSteps; ++step) {
    const float iscale = -(static_cast<float>(max_pos + 1) + kGridStep * step) / max;
    double sxq = 0, sqq = 0;
    for (int i = 0; i < n; ++i) {
      const int q = clamp_level(iscale * x[i], lo, max_pos);
      sxq += static_cast<double>(x[i]) * q;
      sqq += static_cast<double>(q) * q;
    }
    if (sqq == 0) continue;
    const double scale = sxq / sqq;
    double err = 0;
    for (int i = 0; i < n; ++i) {
      const int q = clamp_level(iscale * x[i], lo, max_pos);
      const double e = scale * q - x[i];
      err += e * e;
    }
    if (err < best_err) {
      best_err = static_cast<float>(err);
      best_scale = static_cast<float>(scale);
    }
  }
  return best_scale;
}

float quantize_sub_scales(const float* v, int n, int max_code, uint16_t& d_f16, uint8_t* codes) {
  float vmax = 0.0f;
  for (int j = 0; j < n; ++j) vmax = std::max(vmax, v[j]);
  d_f16 = f32_to_f16(vmax / static_cast<float>(max_code));
  const float d = f16_to_f32(d_f16);
  for (int j = 0; j < n; ++j) {
    codes[j] = d > 0.0f ? static_cast<uint8_t>(clamp_level(v[j] / d, 0, max_code)) : 0;
  }
  return d;
}

void quantize_k_affine(const float* x, int max_level, uint16_t& d_f16, uint16_t& dmin_f16,
                       uint8_t* scale_codes, uint8_t* min_codes, uint8_t* levels) {
  constexpr int kMaxCode = 63;  // 6-bit scale and min codes
  float scales[kKSubBlocks], offsets[kKSubBlocks];
  for (int s = 0; s < kKSubBlocks; ++s) {
    const AffineFit fit = fit_affine(x + s * kKSubBlockElems, kKSubBlockElems, max_level);
    scales[s] = fit.scale;
    offsets[s] = fit.offset;
  }
  const float d = quantize_sub_scales(scales, kKSubBlocks, kMaxCode, d_f16, scale_codes);
  const float dmin = quantize_sub_scales(offsets, kKSubBlocks, kMaxCode, dmin_f16, min_codes);
  for (int s = 0; s < kKSubBlocks; ++s) {
    const float scale = d * static_cast<float>(scale_codes[s]);
    const float offset = dmin * static_cast<float>(min_codes[s]);
    for (int i = s * kKSubBlockElems; i < (s + 1) * kKSubBlockElems; ++i) {
      levels[i] = static_cast<uint8_t>(affine_level(x[i], scale, offset, max_level));
    }
  }
}

}  // namespace frugal
