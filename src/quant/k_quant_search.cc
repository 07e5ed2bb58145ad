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

float weight_at(const float* w, int i) { return w ? w[i] : 1.0f; }

// Weighted least-squares (scale, offset) for fixed levels q, with offset >= 0 enforced.
Candidate refit_affine(const float* x, const float* w, const int* q, int n) {
  double sw = 0, sq = 0, sqq = 0, sx = 0, sxq = 0;
  for (int i = 0; i < n; ++i) {
    const double wi = weight_at(w, i);
    sw += wi;
    sq += wi * q[i];
    sqq += wi * q[i] * q[i];
    sx += wi * x[i];
    sxq += wi * x[i] * q[i];
  }
  const double det = sw * sqq - sq * sq;
  double scale = 0, offset = 0;
  if (det > 0 && sw > 0) {
    scale = (sw * sxq - sq * sx) / det;
    offset = (scale * sq - sx) / sw;
  }
  if (offset < 0 || scale <= 0) {
    offset = 0;
    scale = sqq > 0 ? std::max(0.0, sxq / sqq) : 0.0;
  }
  double err = 0;
  for (int i = 0; i < n; ++i) {
    const double e = scale * q[i] - offset - x[i];
    err += weight_at(w, i) * e * e;
  }
  return {static_cast<float>(scale), static_cast<float>(offset), static_cast<float>(err)};
}

}  // namespace

int affine_level(float x, float scale, float offset, int max_level) {
  if (scale == 0.0f) return 0;
  return clamp_level((x + offset) / scale, 0, max_level);
}

AffineFit fit_affine(const float* x, int n, int max_level, const float* w) {
  float lo = 0.0f, hi = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  if (!(hi > lo)) return {0.0f, -lo};  // constant block at or below zero
  Candidate best{0.0f, -lo, std::numeric_limits<float>::infinity()};
  int q[256];
  // With weights the grid is twice as fine: the weighted optimum moves further from min/max.
  const int refine = w ? 2 : 1;
  for (int step = -kGridSteps * refine; step <= kGridSteps * refine; ++step) {
    const float iscale = (static_cast<float>(max_level) + kGridStep * step / refine) / (hi - lo);
    for (int i = 0; i < n; ++i) q[i] = clamp_level(iscale * (x[i] - lo), 0, max_level);
    const Candidate c = refit_affine(x, w, q, n);
    if (c.err < best.err) best = c;
  }
  return {best.scale, best.offset};
}

float fit_symmetric(const float* x, int n, int max_pos, const float* w) {
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
      sxq += static_cast<double>(weight_at(w, i)) * x[i] * q;
      sqq += static_cast<double>(weight_at(w, i)) * q * q;
    }
    if (sqq == 0) continue;
    const double scale = sxq / sqq;
    double err = 0;
    for (int i = 0; i < n; ++i) {
      const int q = clamp_level(iscale * x[i], lo, max_pos);
      const double e = scale * q - x[i];
      err += weight_at(w, i) * e * e;
    }
    if (err < best_err) {
      best_err = static_cast<float>(err);
      best_scale = static_cast<float>(scale);
    }
  }
  return best_scale;
}

float quantize_sub_scales(const float* v, int n, int max_code, uint16_t& d_f16, uint8_t* codes, const float* sw) {
  float vmax = 0.0f;
  for (int j = 0; j < n; ++j) vmax = std::max(vmax, v[j]);
  d_f16 = f32_to_f16(vmax / static_cast<float>(max_code));
  if (sw != nullptr && vmax > 0.0f) {
    // Weighted: candidate d = vmax / (max_code + 0.1 s), then a least-squares refit of d for the
    // best candidate's codes; the one of lowest weighted error is kept.
    const auto error = [&](uint16_t cand) {
      const float d = f16_to_f32(cand);
      double err = 0;
      for (int j = 0; j < n; ++j) {
        const double e = v[j] - d * (d > 0.0f ? clamp_level(v[j] / d, 0, max_code) : 0);
        err += sw[j] * e * e;
      }
      return err;
    };
    double best = error(d_f16);
    for (int step = -4; step <= 4; ++step) {
      const uint16_t cand = f32_to_f16(vmax / (static_cast<float>(max_code) + 0.1f * step));
      const double err = error(cand);
      if (err < best) {
        best = err;
        d_f16 = cand;
      }
    }
    const float d = f16_to_f32(d_f16);
    double svc = 0, scc = 0;
    for (int j = 0; j < n; ++j) {
      const int c = d > 0.0f ? clamp_level(v[j] / d, 0, max_code) : 0;
      svc += static_cast<double>(sw[j]) * v[j] * c;
      scc += static_cast<double>(sw[j]) * c * c;
    }
    if (scc > 0) {
      const uint16_t refit = f32_to_f16(static_cast<float>(svc / scc));
      if (error(refit) < best) d_f16 = refit;
    }
  }
  const float d = f16_to_f32(d_f16);
  for (int j = 0; j < n; ++j) {
    codes[j] = d > 0.0f ? static_cast<uint8_t>(clamp_level(v[j] / d, 0, max_code)) : 0;
  }
  return d;
}

void quantize_k_affine(const float* x, int max_level, uint16_t& d_f16, uint16_t& dmin_f16,
                       uint8_t* scale_codes, uint8_t* min_codes, uint8_t* levels, const float* w) {
  constexpr int kMaxCode = 63;  // 6-bit scale and min codes
  float scales[kKSubBlocks], offsets[kKSubBlocks], sums[kKSubBlocks];
  for (int s = 0; s < kKSubBlocks; ++s) {
    const float* ws = w ? w + s * kKSubBlockElems : nullptr;
    const AffineFit fit = fit_affine(x + s * kKSubBlockElems, kKSubBlockElems, max_level, ws);
    scales[s] = fit.scale;
    offsets[s] = fit.offset;
    sums[s] = 0.0f;
    for (int i = 0; ws && i < kKSubBlockElems; ++i) sums[s] += ws[i];
  }
  const float* sw = w ? sums : nullptr;
  const float d = quantize_sub_scales(scales, kKSubBlocks, kMaxCode, d_f16, scale_codes, sw);
  const float dmin = quantize_sub_scales(offsets, kKSubBlocks, kMaxCode, dmin_f16, min_codes, sw);
  for (int s = 0; s < kKSubBlocks; ++s) {
    const float scale = d * static_cast<float>(scale_codes[s]);
    const float offset = dmin * static_cast<float>(min_codes[s]);
    for (int i = s * kKSubBlockElems; i < (s + 1) * kKSubBlockElems; ++i) {
      levels[i] = static_cast<uint8_t>(affine_level(x[i], scale, offset, max_level));
    }
  }
}

}  // namespace frugal
