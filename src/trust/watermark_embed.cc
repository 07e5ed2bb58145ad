#include "trust/watermark_embed.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <string>

#include "core/check.h"
#include "trust/watermark_cells.h"

namespace frugal::trust {
namespace {

// A cell may move at most this many times its perceptual amplitude: a cell whose picture argues
// harder than that against its bit is left alone (the detector's weighting discounts such cells) and
// the budget goes to the cells it can win.
constexpr double kCapOverAmplitude = 8.0;
// Jacobi sweeps of the per-cell targets: a cell's change also moves its neighbours' residuals by
// −change / 8, which three sweeps settle to well under a tenth of a level.
constexpr int kTargetSweeps = 3;
// Bisection steps on the amplitude multiplier that spends exactly the RMS budget.
constexpr int kBudgetSteps = 14;
// The cross-fade reaches this far into each cell from its edge (in cells): the middle 3/4 the
// detector averages keeps over 98 % of the cell's own change, and opposite neighbours ramp over
// half a cell instead of stepping.
constexpr double kFade = 0.25;
// Activity and luminance masking (WatermarkEmbedOptions::activity_mask, on by default): a cell never
// moves more than mask_flat · L(background) + kJndPerSigma · σ levels (σ: the cell's luma standard
// deviation, L: how much more a dark or bright background hides than mid grey). On flat and smooth
// content (sky, gradients) a slow ±2-level undulation is visible where texture would hide it; there
// the mark stays under about a level, and the budget such cells cannot spend goes to the cells that
// can hide it (texture), up to WatermarkEmbedOptions::mask_boost times the unmasked amplitude. A frame with no such
// cells (a smooth gradient everywhere) keeps the unspent budget: PSNR above the target. The mark is
// still read there: smooth cells have no host residual to overcome and survive re-encoding best.
constexpr double kJndPerSigma = 0.5;
// Lifting weak bits on masked frames (WatermarkEmbedder::lift_weak_bits). The attack modelled is the
// hardest of the bench for a flat-frame mark, CRF 28 after a 0.5x downscale: on ffmpeg gradients at
// 480x320 it kept 0.28 of the mark's cell residual and added 0.45 levels RMS of codec noise per cell
// (mean over frames; docs/PERFORMANCE.md).
constexpr double kAttackKept = 0.28;
constexpr double kAttackNoise = 0.45;
constexpr double kLiftStep = 1.25;
constexpr int kLiftRounds = 4;
// The mask applies to frames with (almost) no texture: fewer than kMaskMaxBusyShare of their cells
// with σ ≥ kBusySigma levels. Measured (docs/PERFORMANCE.md): on frames with edges (ffmpeg testsrc2,
// mandelbrot: 27–31 % busy cells) the codec's ringing after CRF 28 swamps a sub-level mark in the
// flat cells beside the edges, and masking them lost the blind verdict after crop + CRF 28 whether
// or not the budget was re-spent on texture; on edge-free frames (gradients: 0 %) nothing rings and
// the sub-level mark reads after every attack.
constexpr double kBusySigma = 4.0;
constexpr double kMaskMaxBusyShare = 0.05;
// Background-luminance masking: Chou & Li's visibility threshold of a change on a uniform background
// (IEEE TCSVT 5(6), 1995: 17·(1 − sqrt(bg / 127)) + 3 levels below mid grey, 3 + 3·(bg − 127) / 128
// above), divided by its mid-grey value 3 and capped: dark and bright cells may move up to
// `most` (WatermarkEmbedOptions::luminance_masking) times as far as mid-grey ones.
double luminance_masking(double background, double most) {
  const double bg = std::clamp(background, 0.0, 255.0);
  const double jnd = bg <= 127 ? 17.0 * (1.0 - std::sqrt(bg / 127.0)) + 3.0 : 3.0 + 3.0 * (bg - 127.0) / 128.0;
  return std::clamp(jnd / 3.0, 1.0, most);
}

// Ordered dither in (−0.5, 0.5) by pixel: a 4 × 4 Bayer matrix, so a cell's mean change is its
// fractional target, not the target rounded to whole levels.
float dither(int x, int y) {
  static constexpr int kBayer[4][4] = {{0, 8, 2, 10}, {12, 4, 14, 6}, {3, 11, 1, 9}, {15, 7, 13, 5}};
  return (static_cast<float>(kBayer[y & 3][x & 3]) + 0.5f) / 16.0f - 0.5f;
}

// Moves the BT.709 luma of one RGB8 pixel by `delta` levels: the same change on R, G and B, and
// where a channel clips at 0 or 255 the luma it could not take goes to the channels that can (a
// saturated colour keeps its mark at a small chroma cost). Rounded with `offset` in (−0.5, 0.5).
void shift_luma(uint8_t* p, float delta, float offset) {
  static constexpr float kWeight[3] = {0.2126f, 0.7152f, 0.0722f};
  float v[3];
  float achieved = 0, free_weight = 0;
  for (int ch = 0; ch < 3; ++ch) {
    v[ch] = std::clamp(p[ch] + delta, 0.0f, 255.0f);
    achieved += kWeight[ch] * (v[ch] - p[ch]);
    if (v[ch] > 0.0f && v[ch] < 255.0f) free_weight += kWeight[ch];
  }
  const float missing = delta - achieved;
  if (std::fabs(missing) > 1e-3f && free_weight > 0.0f) {
    // At most half a `delta` more per channel, so the RGB error (what PSNR measures) stays close to the luma change.
    const float extra = std::clamp(missing / free_weight, -0.5f * std::fabs(delta), 0.5f * std::fabs(delta));
    for (int ch = 0; ch < 3; ++ch) {
      if (v[ch] > 0.0f && v[ch] < 255.0f) v[ch] = std::clamp(v[ch] + extra, 0.0f, 255.0f);
    }
  }
  for (int ch = 0; ch < 3; ++ch) p[ch] = static_cast<uint8_t>(std::clamp(std::floor(v[ch] + offset + 0.5f), 0.0f, 255.0f));
}

// The mean of `values` [grid²] over the up-to-8 lattice neighbours of (row, col) that lie inside
// the lattice: how a change of theirs moves this cell's residual (the detector subtracts it).
double neighbour_mean(const std::vector<double>& values, int grid, int row, int col) {
  double sum = 0;
  int n = 0;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      const int r = row + dy, c = col + dx;
      if ((dy == 0 && dx == 0) || r < 0 || c < 0 || r >= grid || c >= grid) continue;
      sum += values[static_cast<size_t>(r) * grid + c];
      ++n;
    }
  }
  return n > 0 ? sum / n : 0.0;
}

}  // namespace

Expected<WatermarkEmbedder> WatermarkEmbedder::create(const WatermarkKey& key, uint64_t payload, int width, int height,
                                                      const WatermarkEmbedOptions& options) {
  if (width < kWatermarkMinSide || height < kWatermarkMinSide) {
    return invalid_argument("watermark: frames must be at least " + std::to_string(kWatermarkMinSide) + "x" +
                            std::to_string(kWatermarkMinSide) + " pixels, not " + std::to_string(width) + "x" +
                            std::to_string(height));
  }
  if (!(options.strength > 0 && options.strength <= 16)) {
    return invalid_argument("watermark: strength must be in (0, 16] luma levels");
  }
  if (!(options.mask_boost >= 1 && options.mask_boost <= 4) || !(options.luminance_masking >= 1 && options.luminance_masking <= 7) ||
      !(options.mask_flat > 0 && options.mask_flat <= 16) || !(options.weak_bit_z > 0 && options.weak_bit_z <= 8) ||
      !(options.max_lift >= 1 && options.max_lift <= 4)) {
    return invalid_argument(
        "watermark: mask boost must be in [1, 4], luminance masking in [1, 7], the flat limit in (0, 16], the weak-bit z in "
        "(0, 8], the lift in [1, 4]");
  }
  const int grid = options.grid != 0 ? options.grid : watermark_grid_for(width, height);
  if (std::find(std::begin(kWatermarkGrids), std::end(kWatermarkGrids), grid) == std::end(kWatermarkGrids) ||
      std::min(width, height) < 2 * grid) {
    return invalid_argument("watermark: lattice " + std::to_string(grid) + " is not 16 or 32, or is too fine for " +
                            std::to_string(width) + "x" + std::to_string(height));
  }
  WatermarkEmbedder embedder;
  embedder.width_ = width;
  embedder.height_ = height;
  embedder.payload_ = payload;
  embedder.options_ = options;
  embedder.layout_ = make_watermark_layout(key, grid);
  const size_t cells = embedder.layout_.chip.size();
  embedder.sign_.resize(cells);
  for (size_t cell = 0; cell < cells; ++cell) {
    const int bit_idx = embedder.layout_.bit[cell];
    const int bit = static_cast<int>(payload >> (kWatermarkBits - 1 - bit_idx) & 1);
    embedder.sign_[cell] = static_cast<int8_t>(embedder.layout_.chip[cell] * (2 * bit - 1));
  }
  embedder.luma_.resize(static_cast<size_t>(width) * height);
  embedder.axis_x_ = make_axis(embedder.layout_.grid, width);
  embedder.axis_y_ = make_axis(embedder.layout_.grid, height);
  return embedder;
}

WatermarkEmbedder::Axis WatermarkEmbedder::make_axis(int grid, int size) {
  Axis axis;
  axis.cell.resize(static_cast<size_t>(size));
  axis.other.assign(static_cast<size_t>(size), -1);
  axis.weight.assign(static_cast<size_t>(size), 1.0f);
  axis.gram_self.assign(static_cast<size_t>(grid), 0.0);
  axis.gram_next.assign(static_cast<size_t>(grid), 0.0);
  for (int c = 0; c < grid; ++c) {
    int lo, hi;
    watermark_cell_span(c, grid, size, &lo, &hi);
    for (int p = lo; p < hi; ++p) {
      const double t = (p + 0.5 - lo) / (hi - lo);  // position in the cell, (0, 1)
      axis.cell[static_cast<size_t>(p)] = c;
      // u: distance from the nearer edge that has a neighbour, in cells; the frame's own edges do not fade.
      double u = 1;
      int other = -1;
      if (t < kFade && c > 0) {
        u = t;
        other = c - 1;
      } else if (t > 1 - kFade && c + 1 < grid) {
        u = 1 - t;
        other = c + 1;
      }
      if (other < 0) continue;
      axis.other[static_cast<size_t>(p)] = other;
      axis.weight[static_cast<size_t>(p)] = static_cast<float>(0.5 + 0.5 * std::sin(M_PI * u / (2 * kFade)));
    }
  }
  for (int p = 0; p < size; ++p) {
    const int c = axis.cell[static_cast<size_t>(p)], o = axis.other[static_cast<size_t>(p)];
    const double w = axis.weight[static_cast<size_t>(p)];
    axis.gram_self[static_cast<size_t>(c)] += w * w;
    if (o < 0) continue;
    axis.gram_self[static_cast<size_t>(o)] += (1 - w) * (1 - w);
    axis.gram_next[static_cast<size_t>(std::min(c, o))] += w * (1 - w);
  }
  return axis;
}

void WatermarkEmbedder::texture_gains(const LumaIntegral& luma) {
  // Texture per cell: the standard deviation of its luma; gain ∝ (σ + 2) / (median σ + 2), in
  // [0.5, 2], normalised to mean square 1. The +2 levels keep flat cells from all hitting 0.5.
  const int grid = layout_.grid;
  gain_.assign(layout_.chip.size(), 0.0);
  limit_.assign(layout_.chip.size(), 0.0);
  for (int row = 0; row < grid; ++row) {
    int y0, y1;
    watermark_cell_span(row, grid, height_, &y0, &y1);
    for (int col = 0; col < grid; ++col) {
      int x0, x1;
      watermark_cell_span(col, grid, width_, &x0, &x1);
      double sum = 0, sum_sq = 0;
      for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) {
          const double v = luma_[static_cast<size_t>(y) * width_ + x];
          sum += v;
          sum_sq += v * v;
        }
      }
      const double n = static_cast<double>((y1 - y0) * (x1 - x0));
      const size_t cell = static_cast<size_t>(row * grid + col);
      gain_[cell] = std::sqrt(std::max(0.0, sum_sq / n - (sum / n) * (sum / n)));
      limit_[cell] = options_.mask_flat * luminance_masking(sum / n, options_.luminance_masking) + kJndPerSigma * gain_[cell];
    }
  }
  busy_share_ = 0;
  for (const double sigma : gain_) busy_share_ += sigma >= kBusySigma ? 1.0 / static_cast<double>(gain_.size()) : 0.0;
  std::vector<double> sorted(gain_);
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double median = sorted[sorted.size() / 2];
  double mean_sq = 0;
  for (double& g : gain_) {
    g = std::clamp((g + 2.0) / (median + 2.0), 0.5, 2.0);
    mean_sq += g * g;
  }
  const double norm = std::sqrt(mean_sq / static_cast<double>(gain_.size()));
  for (double& g : gain_) g /= norm;
  (void)luma;
}

// Per-cell changes for amplitude multiplier `amplitude`: the smallest change (in the bit's direction)
// that leaves the cell's whitened residual at least amplitude·gain on the right side, capped; with
// `masked`, also at the cell's activity limit.
void WatermarkEmbedder::solve_changes(double amplitude, bool masked) {
  const int grid = layout_.grid;
  const size_t cells = layout_.chip.size();
  change_.assign(cells, 0.0);
  for (int sweep = 0; sweep < kTargetSweeps; ++sweep) {
    for (int row = 0; row < grid; ++row) {
      for (int col = 0; col < grid; ++col) {
        const size_t cell = static_cast<size_t>(row) * grid + col;
        const double sign = sign_[cell];
        const double lift = masked ? lift_[cell] : 1.0;
        const double target = amplitude * gain_[cell] * lift;
        // The residual the detector would see without this cell's own change:
        const double others = host_residual_[cell] - neighbour_mean(change_, grid, row, col);
        const double needed = std::max(0.0, target - sign * others);
        change_[cell] = needed <= kCapOverAmplitude * target ? sign * (masked ? std::min(needed, lift * limit_[cell]) : needed) : 0.0;
      }
    }
  }
}

// The mean square of the cross-faded change field, Σ_px (Σ_c w_c(px) change_c)², as the separable
// quadratic form Σ change_rc · change_r'c' · Gy[r][r'] · Gx[c][c'] (both Gram matrices tridiagonal).
double WatermarkEmbedder::mean_square_change() const {
  const int grid = layout_.grid;
  const auto gram = [](const Axis& axis, int a, int b) {
    if (a == b) return axis.gram_self[static_cast<size_t>(a)];
    return std::abs(a - b) == 1 ? axis.gram_next[static_cast<size_t>(std::min(a, b))] : 0.0;
  };
  double total = 0;
  for (int row = 0; row < grid; ++row) {
    for (int col = 0; col < grid; ++col) {
      const double d = change_[static_cast<size_t>(row) * grid + col];
      if (d == 0) continue;
      for (int r = std::max(0, row - 1); r <= std::min(grid - 1, row + 1); ++r) {
        for (int c = std::max(0, col - 1); c <= std::min(grid - 1, col + 1); ++c) {
          total += d * change_[static_cast<size_t>(r) * grid + c] * gram(axis_y_, row, r) * gram(axis_x_, col, c);
        }
      }
    }
  }
  return total / (static_cast<double>(width_) * height_);
}

// Writes the cross-faded field into the frame: per row, blend the two cell rows it touches, then
// per pixel the two cell columns.
void WatermarkEmbedder::apply_changes(std::span<uint8_t> rgb) const {
  const int grid = layout_.grid;
  std::vector<double> row_change(static_cast<size_t>(grid));
  for (int y = 0; y < height_; ++y) {
    const int r0 = axis_y_.cell[static_cast<size_t>(y)], r1 = axis_y_.other[static_cast<size_t>(y)];
    const double wy = axis_y_.weight[static_cast<size_t>(y)];
    for (int c = 0; c < grid; ++c) {
      double v = wy * change_[static_cast<size_t>(r0) * grid + c];
      if (r1 >= 0) v += (1 - wy) * change_[static_cast<size_t>(r1) * grid + c];
      row_change[static_cast<size_t>(c)] = v;
    }
    uint8_t* p = &rgb[static_cast<size_t>(y) * width_ * 3];
    for (int x = 0; x < width_; ++x, p += 3) {
      const int c0 = axis_x_.cell[static_cast<size_t>(x)], c1 = axis_x_.other[static_cast<size_t>(x)];
      const double wx = axis_x_.weight[static_cast<size_t>(x)];
      double delta = wx * row_change[static_cast<size_t>(c0)];
      if (c1 >= 0) delta += (1 - wx) * row_change[static_cast<size_t>(c1)];
      if (std::fabs(delta) < 1e-4) continue;
      shift_luma(p, static_cast<float>(delta), dither(x, y));
    }
  }
}

// The largest amplitude multiplier (at most `max_amplitude`) whose changes spend at most strength²
// of mean square change: doubling, then bisection.
double WatermarkEmbedder::spend_budget(bool masked, double max_amplitude) {
  const double budget = options_.strength * options_.strength;
  double lo = 0, hi = std::min(options_.strength, max_amplitude);
  solve_changes(hi, masked);
  while (mean_square_change() < budget && hi < max_amplitude) {
    lo = hi;
    hi = std::min(2 * hi, max_amplitude);
    solve_changes(hi, masked);
  }
  if (mean_square_change() <= budget) return hi;
  for (int step = 0; step < kBudgetSteps; ++step) {
    const double mid = 0.5 * (lo + hi);
    solve_changes(mid, masked);
    (mean_square_change() > budget ? hi : lo) = mid;
  }
  return lo;
}

// Masked frames only: predicts each bit's evidence after the attack the flat-frame mark must survive
// (the detector's residual there ≈ the host's own residual + kAttackKept × the mark's + codec noise of
// kAttackNoise levels per cell) and lifts the target and limit of the cells of bits predicted under
// weak_bit_z, by kLiftStep per round up to max_lift: the budget goes where the chip pattern and the
// picture leave a bit weak, not to every cell.
void WatermarkEmbedder::lift_weak_bits(double amplitude) {
  const int grid = layout_.grid;
  const size_t cells = layout_.chip.size();
  for (int round = 0; round < kLiftRounds; ++round) {
    std::array<double, kWatermarkBits> sum{}, energy{};
    std::array<int, kWatermarkBits> count{};
    for (int row = 0; row < grid; ++row) {
      for (int col = 0; col < grid; ++col) {
        const size_t cell = static_cast<size_t>(row) * grid + col;
        const double mark = change_[cell] - neighbour_mean(change_, grid, row, col);
        const double q = sign_[cell] * (host_residual_[cell] + kAttackKept * mark);  // toward the bit, levels
        const int bit = layout_.bit[cell];
        sum[static_cast<size_t>(bit)] += q;
        energy[static_cast<size_t>(bit)] += q * q;
        ++count[static_cast<size_t>(bit)];
      }
    }
    bool lifted = false;
    for (size_t cell = 0; cell < cells; ++cell) {
      const size_t bit = layout_.bit[cell];
      const double z = sum[bit] / std::sqrt(energy[bit] + count[bit] * kAttackNoise * kAttackNoise);
      if (z >= options_.weak_bit_z || lift_[cell] >= options_.max_lift) continue;
      lift_[cell] = std::min(options_.max_lift, lift_[cell] * kLiftStep);
      lifted = true;
    }
    if (!lifted) return;
    solve_changes(amplitude, true);
  }
}

void WatermarkEmbedder::embed_frame(std::span<uint8_t> rgb) {
  CHECK(rgb.size() == static_cast<size_t>(width_) * height_ * 3, "watermark: frame size");
  const int grid = layout_.grid;
  for (size_t i = 0; i < luma_.size(); ++i) luma_[i] = watermark_luma(&rgb[3 * i]);
  const LumaIntegral luma(luma_, width_, height_);
  std::vector<double> mean;
  std::vector<uint8_t> seen;
  watermark_cell_means(luma, grid, WatermarkWindow{}, mean, seen);
  watermark_cell_residuals(mean, grid, seen, host_residual_);
  texture_gains(luma);
  // The amplitude multiplier whose changes spend exactly strength² of mean square change; then, with
  // the activity mask, the one that spends it with every cell under its limit (flat cells give up
  // what they cannot hide, texture takes it, up to mask_boost × the unmasked amplitude).
  // Only edge-free frames are masked (kMaskMaxBusyShare). Small frames (the 16 × 16 lattice, cells of
  // 2–15 pixels: a fine, high-frequency pattern the eye resolves least) keep every cell unmasked: they
  // have too few to spare (docs/PERFORMANCE.md).
  const bool masked = options_.activity_mask && grid >= 32 && busy_share_ < kMaskMaxBusyShare;
  lift_.assign(layout_.chip.size(), 1.0);
  double amplitude = spend_budget(false, 64 * options_.strength);
  if (masked) amplitude = spend_budget(true, options_.mask_boost * amplitude);
  solve_changes(amplitude, masked);
  if (masked && options_.lift_weak_bits) lift_weak_bits(amplitude);
  apply_changes(rgb);
}

}  // namespace frugal::trust
