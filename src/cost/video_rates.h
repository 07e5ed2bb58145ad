// Video machine rates (cost layer): the FLOPs of one DiT pass, the rates fitted to frugal's own
// measured video runs (video_calibration.h) and the prediction they make for a configuration.
#pragma once

#include <string>
#include <vector>

#include "core/expected.h"
#include "cost/video_calibration.h"
#include "cost/video_model.h"

namespace frugal {

// The cost layer's DiT description of a calibration point's model (shape only; text encoder and VAE
// figures are not needed by the calibrated model).
DitConfig dit_config_of(const VideoCalibrationPoint& point);

// FLOPs of one DiT pass (one forward of the DiT over the latent of a w x h x frames video).
struct VideoPassWork {
  int64_t tokens = 0;
  // Per token: self-attention q,k,v,o (8 d^2), cross-attention q,o (4 d^2), FFN (4 d ffn); per pass:
  // cross-attention k,v over the text rows (4 d^2 x text_len); patch embedding and head (4 d x
  // z_dim x patch volume per token). All x layers.
  double linear_flops = 0;
  // Self-attention QK^T and AV (4 tokens^2 d) and cross-attention to text_len rows (4 tokens
  // text_len d), x layers.
  double attention_flops = 0;
};
VideoPassWork video_pass_work(const DitConfig& dit, int64_t width, int64_t height, int64_t frames);

// Fitted machine rates for one model and thread count.
struct VideoRates {
  double linear_flops_per_s = 0;     // 0 = the fit found no linear term (infinite rate)
  double attention_flops_per_s = 0;  // likewise
  double seconds_per_pass = 0;       // fixed cost of one DiT pass (norms, RoPE tables, sampler)
  double seconds_per_prompt = 0;     // text encoder, per prompt encoded
  double seconds_per_pixel_frame = 0;
  double vae_fixed_seconds = 0;
  bool has_vae = false;              // some point decoded
  int step_points = 0, vae_points = 0;
  double max_step_fit_error = 0;     // largest |fit / measured - 1| over the fitted points
  double max_vae_fit_error = 0;
};

// Rates from `points` (all of one model and thread count; `dit` is that model's shape).
// kInvalidArgument with fewer than 3 step points or fewer than 3 distinct token counts (the three
// DiT terms cannot be told apart), or a point with non-positive times.
Expected<VideoRates> fit_video_rates(const DitConfig& dit, const std::vector<VideoCalibrationPoint>& points);

struct VideoPrediction {
  VideoPassWork work;
  int passes = 1;
  double seconds_per_step = 0;
  double text_encode_seconds = 0;
  double vae_decode_seconds = 0;  // 0 without VAE rates
  double total_seconds = 0;       // text + steps x step + VAE
};
VideoPrediction predict_video(const VideoRates& rates, const DitConfig& dit, int64_t width, int64_t height,
                              int64_t frames, int64_t steps, bool cfg);

// Non-negative least squares for a few columns (<= 4): minimises sum_i (A_i . x - b_i)^2 with x >= 0
// by trying every subset of columns (exact for this size). Rows of A are the same width; empty on
// bad input. Exposed for the tests.
std::vector<double> small_nnls(const std::vector<std::vector<double>>& a, const std::vector<double>& b);

}  // namespace frugal
