// Scale searches for the K-quant weight quantizers (quant layer): per sub-block, find the scale
// (and offset) that minimise the squared reconstruction error over a small grid of candidate
// scales, each refined by a closed-form least-squares fit. Every search takes optional per-element
// weights w (nullptr = all 1): the error minimised is then sum_i w[i] * (x[i] - x^[i])^2, which is
// how an importance matrix (docs/design/imatrix.md) steers the rounding toward the columns whose
// activations are large.
#pragma once

#include <cstdint>

namespace frugal {

// x[i] ~= scale * level[i] - offset, level in [0, max_level], scale >= 0, offset >= 0.
struct AffineFit {
  float scale = 0.0f;
  float offset = 0.0f;
};
AffineFit fit_affine(const float* x, int n, int max_level, const float* w = nullptr);

// x[i] ~= scale * level[i], level in [-(max_pos + 1), max_pos]. The scale's sign is chosen so the
// element of largest magnitude maps to the wide end (-(max_pos + 1)).
float fit_symmetric(const float* x, int n, int max_pos, const float* w = nullptr);

// Level of x for a quantized (scale, offset), clamped to [0, max_level]; 0 when scale == 0.
int affine_level(float x, float scale, float offset, int max_level);

// Two-level K-quant scales: sub-block values v[j] >= 0 are stored as round(v[j] / d) in
// [0, max_code] with d = max(v) / max_code kept as f16. Returns d (as the f16 rounds it). With
// weights sw[n] (the sub-blocks' summed element weights), d is searched around max(v) / max_code
// to minimise sum_j sw[j] * (v[j] - d * code[j])^2 instead.
float quantize_sub_scales(const float* v, int n, int max_code, uint16_t& d_f16, uint8_t* codes,
                          const float* sw = nullptr);

// Shared body of Q4_K/Q5_K: x[256] -> levels[256] in [0, max_level], 6-bit scale and min codes
// for 8 sub-blocks, f16 d and dmin. w: optional per-element weights w[256].
void quantize_k_affine(const float* x, int max_level, uint16_t& d_f16, uint16_t& dmin_f16,
                       uint8_t* scale_codes, uint8_t* min_codes, uint8_t* levels, const float* w = nullptr);

}  // namespace frugal
