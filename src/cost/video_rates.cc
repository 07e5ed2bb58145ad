#include "cost/video_rates.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace frugal {
namespace {

// Solves the square system m x = v by Gaussian elimination with partial pivoting; false if singular.
bool solve(std::vector<std::vector<double>> m, std::vector<double> v, std::vector<double>* x) {
  const size_t n = v.size();
  for (size_t c = 0; c < n; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < n; ++r) {
      if (std::fabs(m[r][c]) > std::fabs(m[pivot][c])) pivot = r;
    }
    if (std::fabs(m[pivot][c]) < 1e-12) return false;
    std::swap(m[c], m[pivot]);
    std::swap(v[c], v[pivot]);
    for (size_t r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = m[r][c] / m[c][c];
      for (size_t k = c; k < n; ++k) m[r][k] -= f * m[c][k];
      v[r] -= f * v[c];
    }
  }
  x->resize(n);
  for (size_t c = 0; c < n; ++c) (*x)[c] = v[c] / m[c][c];
  return true;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

double rate_of(double seconds_per_unit) { return seconds_per_unit > 0 ? 1.0 / seconds_per_unit : 0.0; }
double seconds_of(double rate) { return rate > 0 ? 1.0 / rate : 0.0; }

// Fits the columns to the targets on relative errors (each row divided by its target), columns
// scaled to unit maximum for conditioning. Returns the coefficients and the largest relative error.
std::vector<double> relative_fit(const std::vector<std::vector<double>>& rows, const std::vector<double>& targets,
                                 double* max_error) {
  const size_t cols = rows.front().size();
  std::vector<double> scale(cols, 0.0);
  for (const auto& r : rows) {
    for (size_t c = 0; c < cols; ++c) scale[c] = std::max(scale[c], std::fabs(r[c]));
  }
  std::vector<std::vector<double>> a;
  std::vector<double> b;
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<double> row(cols);
    for (size_t c = 0; c < cols; ++c) row[c] = scale[c] > 0 ? rows[i][c] / scale[c] / targets[i] : 0.0;
    a.push_back(std::move(row));
    b.push_back(1.0);
  }
  std::vector<double> x = small_nnls(a, b);
  if (x.empty()) x.assign(cols, 0.0);
  for (size_t c = 0; c < cols; ++c) x[c] = scale[c] > 0 ? x[c] / scale[c] : 0.0;
  *max_error = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    double fit = 0;
    for (size_t c = 0; c < cols; ++c) fit += rows[i][c] * x[c];
    *max_error = std::max(*max_error, std::fabs(fit / targets[i] - 1.0));
  }
  return x;
}

}  // namespace

std::vector<double> small_nnls(const std::vector<std::vector<double>>& a, const std::vector<double>& b) {
  if (a.empty() || a.size() != b.size()) return {};
  const size_t cols = a.front().size();
  if (cols == 0 || cols > 4) return {};
  for (const auto& r : a) {
    if (r.size() != cols) return {};
  }
  std::vector<double> best(cols, 0.0);
  double best_residual = 0;
  for (double bi : b) best_residual += bi * bi;  // x = 0
  for (unsigned mask = 1; mask < (1u << cols); ++mask) {
    std::vector<size_t> active;
    for (size_t c = 0; c < cols; ++c) {
      if (mask & (1u << c)) active.push_back(c);
    }
    // Normal equations over the active columns.
    const size_t k = active.size();
    std::vector<std::vector<double>> m(k, std::vector<double>(k, 0.0));
    std::vector<double> v(k, 0.0);
    for (size_t i = 0; i < a.size(); ++i) {
      for (size_t p = 0; p < k; ++p) {
        v[p] += a[i][active[p]] * b[i];
        for (size_t q = 0; q < k; ++q) m[p][q] += a[i][active[p]] * a[i][active[q]];
      }
    }
    std::vector<double> xs;
    if (!solve(m, v, &xs)) continue;
    if (std::any_of(xs.begin(), xs.end(), [](double x) { return x < 0; })) continue;
    std::vector<double> x(cols, 0.0);
    for (size_t p = 0; p < k; ++p) x[active[p]] = xs[p];
    double residual = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      double fit = 0;
      for (size_t c = 0; c < cols; ++c) fit += a[i][c] * x[c];
      residual += (fit - b[i]) * (fit - b[i]);
    }
    if (residual < best_residual) {
      best_residual = residual;
      best = x;
    }
  }
  return best;
}

DitConfig dit_config_of(const VideoCalibrationPoint& p) {
  DitConfig d;
  d.name = p.model;
  d.description = p.model;
  d.dim = p.dim;
  d.n_layer = p.n_layer;
  d.n_head = p.n_head;
  d.ffn_dim = p.ffn_dim;
  d.text_len = p.text_len;
  return d;
}

VideoPassWork video_pass_work(const DitConfig& dit, int64_t width, int64_t height, int64_t frames) {
  VideoRequest r;
  r.width = width;
  r.height = height;
  r.frames = frames;
  VideoPassWork w;
  w.tokens = video_tokens(dit, r).tokens;
  const double n = static_cast<double>(w.tokens);
  const double d = static_cast<double>(dit.dim);
  const double layers = static_cast<double>(dit.n_layer);
  const double text = static_cast<double>(dit.text_len);
  const double patch = static_cast<double>(dit.patch_t * dit.patch_h * dit.patch_w);
  const double per_token = layers * (12.0 * d * d + 4.0 * d * static_cast<double>(dit.ffn_dim)) +
                           4.0 * d * static_cast<double>(dit.z_dim) * patch;
  w.linear_flops = n * per_token + layers * 4.0 * d * d * text;
  w.attention_flops = layers * 4.0 * d * (n * n + n * text);
  return w;
}

Expected<VideoRates> fit_video_rates(const DitConfig& dit, const std::vector<VideoCalibrationPoint>& points) {
  std::vector<std::vector<double>> step_rows, vae_rows;
  std::vector<double> step_targets, vae_targets, per_prompt;
  std::set<int64_t> token_counts;
  std::set<double> pixel_frames;
  for (const VideoCalibrationPoint& p : points) {
    if (!(p.seconds_per_step > 0) || !(p.text_encode_seconds >= 0)) {
      return invalid_argument("video calibration point " + p.model + " " + std::to_string(p.width) + "x" +
                              std::to_string(p.height) + "x" + std::to_string(p.frames) + " has no time per step");
    }
    const VideoPassWork w = video_pass_work(dit, p.width, p.height, p.frames);
    const double passes = p.cfg ? 2.0 : 1.0;
    step_rows.push_back({passes * w.linear_flops, passes * w.attention_flops, passes});
    step_targets.push_back(p.seconds_per_step);
    token_counts.insert(w.tokens);
    per_prompt.push_back(p.text_encode_seconds / passes);
    if (p.decoded && p.vae_decode_seconds > 0) {
      const double pf = static_cast<double>(p.width) * static_cast<double>(p.height) * static_cast<double>(p.frames);
      vae_rows.push_back({pf, 1.0});
      vae_targets.push_back(p.vae_decode_seconds);
      pixel_frames.insert(pf);
    }
  }
  if (step_rows.size() < 3 || token_counts.size() < 3) {
    return invalid_argument("a video calibration needs points at >= 3 different token counts (sizes or frames) to fit "
                            "the linear, attention and per-pass terms; it has " +
                            std::to_string(token_counts.size()));
  }
  VideoRates r;
  r.step_points = static_cast<int>(step_rows.size());
  const std::vector<double> x = relative_fit(step_rows, step_targets, &r.max_step_fit_error);
  r.linear_flops_per_s = rate_of(x[0]);
  r.attention_flops_per_s = rate_of(x[1]);
  r.seconds_per_pass = x[2];
  r.seconds_per_prompt = median(per_prompt);
  if (!vae_rows.empty()) {
    r.has_vae = true;
    r.vae_points = static_cast<int>(vae_rows.size());
    if (pixel_frames.size() >= 2) {
      const std::vector<double> v = relative_fit(vae_rows, vae_targets, &r.max_vae_fit_error);
      r.seconds_per_pixel_frame = v[0];
      r.vae_fixed_seconds = v[1];
    } else {  // one size: proportional to the pixel-frames, no fixed part
      for (auto& row : vae_rows) row.resize(1);
      r.seconds_per_pixel_frame = relative_fit(vae_rows, vae_targets, &r.max_vae_fit_error)[0];
    }
  }
  return r;
}

VideoPrediction predict_video(const VideoRates& rates, const DitConfig& dit, int64_t width, int64_t height,
                              int64_t frames, int64_t steps, bool cfg) {
  VideoPrediction p;
  p.work = video_pass_work(dit, width, height, frames);
  p.passes = cfg ? 2 : 1;
  const double pass = p.work.linear_flops * seconds_of(rates.linear_flops_per_s) +
                      p.work.attention_flops * seconds_of(rates.attention_flops_per_s) + rates.seconds_per_pass;
  p.seconds_per_step = p.passes * pass;
  p.text_encode_seconds = p.passes * rates.seconds_per_prompt;
  if (rates.has_vae) {
    p.vae_decode_seconds = rates.seconds_per_pixel_frame * static_cast<double>(width) * static_cast<double>(height) *
                               static_cast<double>(frames) + rates.vae_fixed_seconds;
  }
  p.total_seconds = p.text_encode_seconds + static_cast<double>(steps) * p.seconds_per_step + p.vae_decode_seconds;
  return p;
}

}  // namespace frugal
