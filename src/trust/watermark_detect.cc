#include "trust/watermark_detect.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/check.h"
#include "media/mp4_reader.h"
#include "trust/watermark_cells.h"
#include "trust/watermark_null.h"

namespace frugal::trust {
namespace {

// Window scales tried for crops: the visible picture is this fraction of the marked one per side.
constexpr double kWindowScales[] = {1.0, 0.95, 0.9, 0.85, 0.8};
// The weighted union bound (Bonferroni with unequal weights, Σ w_h = 1, so the rate stays ≤ α):
// this share of α goes to the uncropped alignments (the common case: re-encodes, rescales,
// brightness), the rest is spread evenly over the crop alignments.
constexpr double kUncroppedShare = 0.5;
// Hypotheses with fewer bits in view are not evaluated (they still count in H).
constexpr int kMinBitsSeen = 32;
// Residuals are weighted by a Cauchy influence r / (1 + (r / κ)²) with κ = kInfluenceScale × the
// kInfluenceQuantile quantile of |r|: small residuals (where the mark lives: the embedder sets
// them to about its amplitude) count linearly, edges and texture (|r| ≫ κ) fade out.
constexpr double kInfluenceScale = 1.5;
constexpr double kInfluenceQuantile = 0.25;

struct Hypothesis {
  int grid;
  WatermarkWindow window;
};

// Which lattices are tried depends on the picture's size only (watermark_grid_searched), never on
// what it shows, so the union bound holds: a picture under 128 pixels on its short side is searched
// over the 16 lattice's 335 alignments (its one uncropped alignment gets half the rate), a larger one
// over both lattices' 1,630.
std::vector<Hypothesis> hypotheses(bool search_crops, int width, int height) {
  std::vector<Hypothesis> out;
  for (const int grid : kWatermarkGrids) {
    if (!watermark_grid_searched(grid, width, height)) continue;
    const double step = 1.0 / (4.0 * grid);  // a quarter cell
    for (const double scale : kWindowScales) {
      if (!search_crops && scale != 1.0) continue;
      const int positions = static_cast<int>(std::floor((1.0 - scale) / step + 1e-9)) + 1;
      for (int iy = 0; iy < positions; ++iy) {
        for (int ix = 0; ix < positions; ++ix) out.push_back({grid, {scale, ix * step, iy * step}});
      }
    }
  }
  return out;
}

// Frames the blind statistic reads per video, at most: longer videos are read at a fixed stride (chosen
// from the frame count, never from what a frame shows, so the null bound holds).
constexpr int64_t kMaxEvidenceFrames = 48;

struct Score {
  std::array<double, kWatermarkBits> z{};
  double statistic = 0;
  int bits_seen = 0;
  double log_p = 0;  // ln of the single-hypothesis bound
};

struct Scratch {
  std::vector<double> mean, residual, magnitudes;
  std::vector<uint8_t> seen;
  std::array<double, kWatermarkBits> energy{};
};

// One picture's evidence under one alignment, added into `sum` [grid²]: cell means → neighbour-whitened
// residuals r_c → Cauchy weights e_c = r_c / (1 + (r_c / κ)²) → each divided by the norm of its bit's
// e over the cells in view, so every picture casts one unit vote per bit. Uses no chip.
void add_evidence(const LumaIntegral& luma, const WatermarkLayout& layout, const WatermarkWindow& window, Scratch& s,
                  std::vector<double>& sum) {
  const size_t cells = layout.chip.size();
  if (sum.size() != cells) sum.assign(cells, 0.0);
  watermark_cell_means(luma, layout.grid, window, s.mean, s.seen);
  watermark_cell_residuals(s.mean, layout.grid, s.seen, s.residual);
  s.magnitudes.clear();
  for (size_t cell = 0; cell < cells; ++cell) {
    if (s.seen[cell]) s.magnitudes.push_back(std::fabs(s.residual[cell]));
  }
  if (s.magnitudes.empty()) return;
  const size_t q = static_cast<size_t>(kInfluenceQuantile * static_cast<double>(s.magnitudes.size()));
  std::nth_element(s.magnitudes.begin(), s.magnitudes.begin() + q, s.magnitudes.end());
  const double kappa = std::max(kInfluenceScale * s.magnitudes[q], 1e-6);
  s.energy.fill(0.0);
  for (size_t cell = 0; cell < cells; ++cell) {
    if (!s.seen[cell]) {
      s.residual[cell] = 0;
      continue;
    }
    const double u = s.residual[cell] / kappa;
    s.residual[cell] = u / (1.0 + u * u);  // e_c, in place
    s.energy[layout.bit[cell]] += s.residual[cell] * s.residual[cell];
  }
  for (size_t cell = 0; cell < cells; ++cell) {
    const double energy = s.energy[layout.bit[cell]];
    if (energy > 0) sum[cell] += s.residual[cell] / std::sqrt(energy);
  }
}

// Per-bit normalised correlations of summed evidence A [grid²]: z_i = Σ chip_c A_c / sqrt(Σ A_c²) over
// bit i's cells — a normalised Rademacher sum whatever A is, as long as A used no chip.
Score score_evidence(std::span<const double> evidence, const WatermarkLayout& layout) {
  std::array<double, kWatermarkBits> corr{}, energy{};
  for (size_t cell = 0; cell < evidence.size(); ++cell) {
    corr[layout.bit[cell]] += layout.chip[cell] * evidence[cell];
    energy[layout.bit[cell]] += evidence[cell] * evidence[cell];
  }
  Score out;
  for (int bit = 0; bit < kWatermarkBits; ++bit) {
    if (energy[bit] <= 0) continue;
    out.z[bit] = corr[bit] / std::sqrt(energy[bit]);
    out.statistic += out.z[bit] * out.z[bit];
    ++out.bits_seen;
  }
  out.log_p = log_chi2_chernoff_tail(out.statistic, out.bits_seen);
  return out;
}

// One picture under one alignment.
Score score(const LumaIntegral& luma, const WatermarkLayout& layout, const WatermarkWindow& window, Scratch& s,
            std::vector<double>& sum) {
  sum.assign(layout.chip.size(), 0.0);
  add_evidence(luma, layout, window, s, sum);
  return score_evidence(sum, layout);
}

// J = Σ_i s_i z_i / ||z|| at the chosen alignment. Why it needs no union over the alignments: flipping
// every chip of bit i flips z_i under every alignment at once and leaves every |z| (so every T, so
// the choice of alignment) unchanged; without this key's mark the chips are fair coins, so given
// the choice and all |z|, the signs of the z_i are independent fair coins, and J is a normalised
// Rademacher sum. With another payload under this key the expected s_i are HMAC outputs independent
// of the picture: the same. Either way P(J ≥ t) ≤ exp(−t²/2) (Hoeffding).
WatermarkPayloadTest known_payload_test(const WatermarkDetection& d, uint64_t expected, double rate) {
  WatermarkPayloadTest test;
  test.threshold = std::sqrt(2.0 * std::log(1.0 / rate));
  double dot = 0, norm = 0;
  for (int bit = 0; bit < kWatermarkBits; ++bit) {
    if (d.bit_z[bit] == 0) continue;
    const double s = (expected >> (kWatermarkBits - 1 - bit) & 1) ? 1.0 : -1.0;
    dot += s * d.bit_z[bit];
    norm += d.bit_z[bit] * d.bit_z[bit];
    test.agreeing_bits += s * d.bit_z[bit] > 0 ? 1 : 0;
  }
  if (norm <= 0) return test;
  test.statistic = dot / std::sqrt(norm);
  test.log10_p_value = test.statistic > 0 ? -0.5 * test.statistic * test.statistic / std::log(10.0) : 0.0;
  test.matches = test.statistic >= test.threshold;
  return test;
}

// The payload, the |z| summary and the known-payload test, from d.bit_z.
void summarise_bits(WatermarkDetection& d, const WatermarkDetectOptions& options) {
  double sum_abs = 0, min_abs = INFINITY;
  d.payload = 0;
  for (int bit = 0; bit < kWatermarkBits; ++bit) {
    d.payload = (d.payload << 1) | (d.bit_z[bit] > 0 ? 1 : 0);
    if (d.bit_z[bit] == 0) continue;
    sum_abs += std::fabs(d.bit_z[bit]);
    min_abs = std::min(min_abs, std::fabs(d.bit_z[bit]));
  }
  d.mean_abs_z = d.bits_seen > 0 ? sum_abs / d.bits_seen : 0;
  d.min_abs_z = d.bits_seen > 0 ? min_abs : 0;
  if (options.expected_payload) d.payload_test = known_payload_test(d, *options.expected_payload, options.false_positive_rate);
}

// The blind statistic's evidence for every alignment hypothesis, summed over pictures (one mean
// picture, or a fixed stride of frames): A_h,c = Σ_f e_f,c / ||e_f,bit(c)||. Chip-free, so each
// hypothesis's T is bounded by watermark_null.h for any content, and the weighted union bound holds.
class Evidence {
 public:
  Evidence(const WatermarkKey& key, bool search_crops, int width, int height)
      : all_(hypotheses(search_crops, width, height)), sums_(all_.size()) {
    for (const int grid : kWatermarkGrids) layouts_.push_back(make_watermark_layout(key, grid));
  }
  void add(std::span<const float> luma, int width, int height) {
    const LumaIntegral integral(luma, width, height);
    for (size_t h = 0; h < all_.size(); ++h) add_evidence(integral, layout(all_[h].grid), all_[h].window, scratch_, sums_[h]);
  }

  // The hypothesis with the smallest weighted bound, its bits, and the verdict at options' rate.
  WatermarkDetection decide(const WatermarkDetectOptions& options, int64_t frames) const {
    WatermarkDetection best;
    best.hypotheses = static_cast<int>(all_.size());
    best.false_positive_rate = options.false_positive_rate;
    best.frames = frames;
    int uncropped = 0;
    for (const Hypothesis& h : all_) uncropped += h.window.scale == 1.0 ? 1 : 0;
    const int cropped = static_cast<int>(all_.size()) - uncropped;
    const double share = cropped > 0 ? kUncroppedShare : 1.0;
    const auto log_weight = [&](const Hypothesis& h) {
      return h.window.scale == 1.0 ? std::log(share / uncropped) : std::log((1.0 - share) / cropped);
    };
    // ln of the weighted bound, P·(1/w_h), of the best hypothesis. There is always a best one (when no
    // T exceeds k, the uncropped alignment of the first lattice, whose weight is the largest): the
    // known-payload test reads its bits. The choice depends on the |z| only (watermark_detect.h).
    double best_log_p = INFINITY;
    double best_log_weight = 0;
    for (size_t i = 0; i < all_.size(); ++i) {
      const Hypothesis& h = all_[i];
      if (sums_[i].empty()) continue;
      const Score s = score_evidence(sums_[i], layout(h.grid));
      const double weighted = s.log_p - log_weight(h);
      if (s.bits_seen < kMinBitsSeen || weighted >= best_log_p) continue;
      best_log_p = weighted;
      best_log_weight = log_weight(h);
      best.bit_z = s.z;
      best.statistic = s.statistic;
      best.bits_seen = s.bits_seen;
      best.grid = h.grid;
      best.window_scale = h.window.scale;
      best.window_x = h.window.x;
      best.window_y = h.window.y;
    }
    const double log_p_union = std::min(0.0, best_log_p);
    best.log10_p_value = log_p_union / std::log(10.0);
    best.detected = best.bits_seen > 0 && log_p_union <= std::log(options.false_positive_rate);
    if (best.bits_seen > 0) {
      best.threshold = chi2_chernoff_threshold(best.bits_seen, options.false_positive_rate * std::exp(best_log_weight), 1);
    }
    summarise_bits(best, options);
    return best;
  }

 private:
  const WatermarkLayout& layout(int grid) const {
    for (const WatermarkLayout& l : layouts_) {
      if (l.grid == grid) return l;
    }
    CHECK(false, "watermark: no layout for the lattice");
    return layouts_.front();
  }
  std::vector<Hypothesis> all_;
  std::vector<WatermarkLayout> layouts_;
  std::vector<std::vector<double>> sums_;  // [hypothesis][grid²]
  Scratch scratch_;
};

// Re-reads the bits frame by frame near the alignment the blind search chose. The search steps a
// quarter cell and 5 % of scale; for a crop window the re-reading tries it shifted by up to 1/8 cell
// (steps of 1/16) and scaled by up to ±1 %, keeps the one whose summed evidence (as in Evidence) has
// the largest T, and reads each frame there: Σ_f w_f z_f,i with w_f = max(0, T_f / k − 1). Why the
// known-payload bound survives: flipping every chip of bit i flips z_f,i in every frame and under
// every window, and changes no T or T_f — so neither the window chosen nor any weight; the combined
// z_i flips and every |z_i| stays, which is all known_payload_test's argument needs.
class FrameBitReader {
 public:
  FrameBitReader(const WatermarkKey& key, const WatermarkDetection& chosen) : layout_(make_watermark_layout(key, chosen.grid)) {
    const double step = 1.0 / (16.0 * chosen.grid);
    // An uncropped choice is exact (the frame's edges are the mark's: re-encodes, rescales, brightness);
    // only a crop window, found on a quarter-cell grid, is refined.
    const bool refine = chosen.window_scale < 1.0;
    const int reach = refine ? 2 : 0;
    for (const double scale : {1.0, 0.995, 1.005, 0.99, 1.01}) {
      if (!refine && scale != 1.0) continue;
      const double s = chosen.window_scale * scale;
      // Scaling about the window's centre, then shifting.
      const double cx = chosen.window_x + 0.5 * chosen.window_scale, cy = chosen.window_y + 0.5 * chosen.window_scale;
      for (int dy = -reach; dy <= reach; ++dy) {
        for (int dx = -reach; dx <= reach; ++dx) windows_.push_back({s, cx - 0.5 * s + dx * step, cy - 0.5 * s + dy * step});
      }
    }
    reads_.resize(windows_.size());
  }
  void add(std::span<const float> luma, int width, int height) {
    const LumaIntegral integral(luma, width, height);
    for (size_t i = 0; i < windows_.size(); ++i) {
      Read& read = reads_[i];
      const Score s = score(integral, layout_, windows_[i], scratch_, frame_sum_);
      if (s.bits_seen == 0) continue;
      if (read.evidence.empty()) read.evidence.assign(frame_sum_.size(), 0.0);
      for (size_t c = 0; c < frame_sum_.size(); ++c) read.evidence[c] += frame_sum_[c];
      const double w = std::max(0.0, s.statistic / s.bits_seen - 1.0);
      if (w <= 0) continue;
      for (int bit = 0; bit < kWatermarkBits; ++bit) read.combined[bit] += w * s.z[bit];
      read.weight_sq += w * w;
      ++read.weighted;
    }
  }
  // Replaces d's bits (scaled to unit noise weight) and alignment when any frame carried weight.
  void finish(WatermarkDetection& d, const WatermarkDetectOptions& options) const {
    int best = -1;
    double best_t = -1;
    for (size_t i = 0; i < reads_.size(); ++i) {
      if (reads_[i].weighted == 0 || reads_[i].evidence.empty()) continue;
      const double t = score_evidence(reads_[i].evidence, layout_).statistic;
      if (t > best_t) {
        best_t = t;
        best = static_cast<int>(i);
      }
    }
    if (best < 0) return;
    const Read& read = reads_[static_cast<size_t>(best)];
    for (int bit = 0; bit < kWatermarkBits; ++bit) d.bit_z[bit] = read.combined[bit] / std::sqrt(read.weight_sq);
    d.frames_weighted = read.weighted;
    d.read_window_scale = windows_[static_cast<size_t>(best)].scale;
    d.read_window_x = windows_[static_cast<size_t>(best)].x;
    d.read_window_y = windows_[static_cast<size_t>(best)].y;
    summarise_bits(d, options);
  }

 private:
  struct Read {
    std::vector<double> evidence;  // [grid²] Σ_f of unit-vote evidence, as Evidence sums it
    std::array<double, kWatermarkBits> combined{};
    double weight_sq = 0;
    int64_t weighted = 0;
  };
  WatermarkLayout layout_;
  std::vector<WatermarkWindow> windows_;
  std::vector<Read> reads_;
  Scratch scratch_;
  std::vector<double> frame_sum_;
};

Status check_picture(int width, int height, const WatermarkDetectOptions& options) {
  const int min_side = kWatermarkMinSide / 2;
  if (width < min_side || height < min_side) {
    return invalid_argument("watermark: a picture of " + std::to_string(width) + "x" + std::to_string(height) +
                            " is too small to read (at least " + std::to_string(min_side) + " pixels a side)");
  }
  if (!(options.false_positive_rate > 0 && options.false_positive_rate < 1)) {
    return invalid_argument("watermark: the false-positive rate must be in (0, 1)");
  }
  return Status::ok();
}

// Frames [0, n) are read by the blind statistic at this stride (a function of n only).
int64_t evidence_stride(int64_t n) { return std::max<int64_t>(1, (n + kMaxEvidenceFrames - 1) / kMaxEvidenceFrames); }

}  // namespace

LumaAccumulator::LumaAccumulator(int width, int height)
    : width_(width), height_(height), sum_(static_cast<size_t>(width) * height, 0.0) {}

void LumaAccumulator::add_frame(std::span<const uint8_t> rgb) {
  CHECK(rgb.size() == sum_.size() * 3, "watermark: frame size");
  for (size_t i = 0; i < sum_.size(); ++i) sum_[i] += watermark_luma(&rgb[3 * i]);
  ++frames_;
}

void LumaAccumulator::add_luma(std::span<const uint8_t> luma) {
  CHECK(luma.size() == sum_.size(), "watermark: luma size");
  for (size_t i = 0; i < sum_.size(); ++i) sum_[i] += luma[i];
  ++frames_;
}

std::vector<float> LumaAccumulator::mean() const {
  std::vector<float> out(sum_.size(), 0.0f);
  if (frames_ == 0) return out;
  for (size_t i = 0; i < sum_.size(); ++i) out[i] = static_cast<float>(sum_[i] / static_cast<double>(frames_));
  return out;
}

Expected<WatermarkDetection> detect_watermark(const WatermarkKey& key, std::span<const float> mean_luma, int width,
                                              int height, int64_t frames, const WatermarkDetectOptions& options) {
  if (Status st = check_picture(width, height, options); !st.is_ok()) return st;
  if (mean_luma.size() != static_cast<size_t>(width) * height) return invalid_argument("watermark: luma size");
  Evidence evidence(key, options.search_crops, width, height);
  evidence.add(mean_luma, width, height);
  return evidence.decide(options, frames);
}

Expected<WatermarkDetection> detect_watermark_in_frames(const WatermarkKey& key, std::span<const uint8_t> frames, int64_t n,
                                                        int width, int height, const WatermarkDetectOptions& options) {
  if (n <= 0 || width <= 0 || height <= 0 || frames.size() != static_cast<size_t>(n) * width * height * 3) {
    return invalid_argument("watermark: frames must be [n, height, width, 3] with n > 0");
  }
  if (Status st = check_picture(width, height, options); !st.is_ok()) return st;
  const size_t frame_bytes = static_cast<size_t>(width) * height * 3;
  if (!options.combine_frames || n < 2) {
    LumaAccumulator acc(width, height);
    for (int64_t f = 0; f < n; ++f) acc.add_frame(frames.subspan(static_cast<size_t>(f) * frame_bytes, frame_bytes));
    return detect_watermark(key, acc.mean(), width, height, n, options);
  }
  std::vector<float> luma(static_cast<size_t>(width) * height);
  const auto frame_luma = [&](int64_t f) {
    const uint8_t* rgb = frames.data() + static_cast<size_t>(f) * frame_bytes;
    for (size_t i = 0; i < luma.size(); ++i) luma[i] = watermark_luma(rgb + 3 * i);
  };
  Evidence evidence(key, options.search_crops, width, height);
  for (int64_t f = 0; f < n; f += evidence_stride(n)) {
    frame_luma(f);
    evidence.add(luma, width, height);
  }
  WatermarkDetection detection = evidence.decide(options, n);
  if (detection.bits_seen == 0) return detection;
  FrameBitReader reader(key, detection);
  for (int64_t f = 0; f < n; ++f) {
    frame_luma(f);
    reader.add(luma, width, height);
  }
  reader.finish(detection, options);
  return detection;
}

Expected<WatermarkDetection> detect_watermark_in_file(const WatermarkKey& key, const std::string& path, int64_t max_frames,
                                                      const WatermarkDetectOptions& options) {
  std::optional<LumaAccumulator> acc;
  std::optional<Evidence> evidence;
  std::vector<float> frame;
  int64_t index = 0, stride = 1;
  media::Mp4ReadOptions read;
  read.max_frames = max_frames;
  // The Y' plane as decoded: the detector is invariant to Y' = 16 + 219/255 · luma (an affine map),
  // and reading it skips the RGB conversion whose gamut clipping would bend a brightness change.
  read.on_luma = [&](const media::Mp4Info& info, std::span<const uint8_t> luma) -> Status {
    if (!acc) {
      if (Status st = check_picture(info.width, info.height, options); !st.is_ok()) return st;
      acc.emplace(info.width, info.height);
      if (options.combine_frames) {
        // The stride from the container's frame count (duration × rate), capped by max_frames: a
        // function of the file's length only, never of what its frames show.
        int64_t expected = max_frames > 0 ? max_frames : INT64_MAX;
        const double counted = info.duration_s * info.fps.per_second();
        if (counted > 0) expected = std::min<int64_t>(expected, static_cast<int64_t>(std::ceil(counted)));
        stride = expected == INT64_MAX ? 1 : evidence_stride(expected);
        evidence.emplace(key, options.search_crops, info.width, info.height);
      }
    }
    acc->add_luma(luma);
    if (evidence && index % stride == 0) {
      frame.assign(luma.begin(), luma.end());
      evidence->add(frame, info.width, info.height);
    }
    ++index;
    return Status::ok();
  };
  auto decoded = media::read_mp4(path, read);
  if (!decoded) return decoded.error();
  if (!acc || acc->frames() == 0) return invalid_argument("watermark: " + path + " has no frames");
  if (!evidence || acc->frames() < 2) return detect_watermark(key, acc->mean(), acc->width(), acc->height(), acc->frames(), options);
  WatermarkDetection detection = evidence->decide(options, acc->frames());
  if (detection.bits_seen == 0) return detection;
  // The second pass: the same frames again (decoding twice keeps one frame in memory, not all).
  FrameBitReader reader(key, detection);
  read.on_luma = [&](const media::Mp4Info& info, std::span<const uint8_t> luma) -> Status {
    frame.assign(luma.begin(), luma.end());
    reader.add(frame, info.width, info.height);
    return Status::ok();
  };
  auto again = media::read_mp4(path, read);
  if (!again) return again.error();
  reader.finish(detection, options);
  return detection;
}

int watermark_bit_errors(const WatermarkDetection& detection, uint64_t expected) {
  return __builtin_popcountll(detection.payload ^ expected);
}

}  // namespace frugal::trust
