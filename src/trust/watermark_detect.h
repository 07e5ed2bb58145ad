// Reads the luma watermark back (trust layer): frames → per-frame cell evidence → per-bit soft
// decisions → payload and a verdict at a stated false-positive rate.
//
// For each alignment hypothesis (lattice 16 or 32; the visible picture being a centred-or-shifted
// window of 80–100 % of the marked frame, i.e. crops, in steps of a quarter cell; rescaling needs no
// hypothesis because cells are in relative coordinates) and each frame read (all up to 48, then a
// stride fixed by the video's length), the detector takes each cell's mean luma over the middle 3/4
// of the cell, whitens it by subtracting the mean of its 8 neighbours (removing the picture's smooth
// part), soft-limits the residual (a few edges cannot dominate), scales it to one unit vote per bit
// and frame, and sums over frames; the sums are correlated with the chips of each bit. Each bit's
// normalised correlation z_i gives the bit (its sign) and its confidence (|z_i|); the statistic
// T = Σ z_i² is compared with the threshold at which a weighted union bound of watermark_null.h
// over all hypotheses (half the rate on the 2 uncropped alignments, half over the crop
// alignments) is ≤ the requested false-positive rate (default 1e-6). `detect_watermark` on one
// picture (e.g. a mean luma) is the same with one frame.
// The bits are then re-read frame by frame at the alignment the search picked: each frame's per-bit
// z_f,i, combined with the weight w_f = max(0, T_f / k − 1) (a frame's own estimate of its mark's
// squared SNR), so frames that carry the mark well (I-frames, static content) outvote the ones a
// codec smeared (P-frames predicted across motion). The blind verdict stays that of the sums; the
// re-reading only sharpens the bits and the known-payload test, whose bound it keeps
// (docs/design/trust-watermark.md).
// Threading: the functions are pure; an accumulator is used by one thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/expected.h"
#include "trust/watermark_key.h"
#include "trust/watermark_layout.h"

namespace frugal::trust {

struct WatermarkDetectOptions {
  double false_positive_rate = 1e-6;  // per video, over all hypotheses (watermark_null.h)
  bool search_crops = true;           // false: only the uncropped alignment of each lattice
  // The known-payload test: when the caller knows which payload to expect (the job id is known:
  // the worker's read-back, `detect --job-id`), also test "this video carries exactly this payload".
  // At the alignment the blind search picked, J = Σ_i s_i z_i / sqrt(Σ_i z_i²) with s_i = ±1 the
  // expected bits; it is a normalised Rademacher sum whether the video is unmarked, marked under
  // another key, or marked with another payload under this key, so P(J ≥ t) ≤ exp(−t²/2) with no
  // union over alignments (docs/design/trust-watermark.md has the proof).
  std::optional<uint64_t> expected_payload;
  // Per-frame evidence and the frame-by-frame re-reading (see the header comment); false: the
  // mean picture of all frames is scored as one picture (one decode pass instead of two, ~30x less
  // work, and weaker after re-encoding: docs/PERFORMANCE.md).
  bool combine_frames = true;
};

// The known-payload test's result (WatermarkDetectOptions::expected_payload).
struct WatermarkPayloadTest {
  bool matches = false;         // J ≥ threshold: this payload is in the video at the requested rate
  double statistic = 0;         // J, at most sqrt(bits seen) (every bit agreeing)
  double threshold = 0;         // sqrt(2 ln(1 / rate))
  double log10_p_value = 0;     // log10 of exp(−J²/2) for J > 0, else 0
  int agreeing_bits = 0;        // bits whose sign matches the expected payload (of bits seen)
};

struct WatermarkDetection {
  bool detected = false;
  uint64_t payload = 0;                        // the bits read (meaningful when detected)
  std::array<double, kWatermarkBits> bit_z{};  // per bit (payload bit 63 first): sign = bit, |z| = confidence
  double statistic = 0;                        // T = Σ z_i² of the best hypothesis
  double threshold = 0;                        // T needed for `detected` at that hypothesis's k and weight
  int bits_seen = 0;                           // k: bits with at least one visible cell
  double log10_p_value = 0;                    // log10 of the bound on P(false positive) for this T (≤ 0)
  int hypotheses = 0;                          // alignments tried (H of the union bound)
  double false_positive_rate = 0;              // the rate the verdict was made at
  int grid = 0;                                // the best hypothesis: lattice, window scale and origin
  double window_scale = 1, window_x = 0, window_y = 0;
  int64_t frames = 0;                          // frames decoded
  // Frames whose weight in the per-frame re-reading was > 0 (0: bit_z is the blind search's), and the
  // window the bits were read at (the search's, refined by up to 1/8 cell and ±1 % of scale).
  int64_t frames_weighted = 0;
  double read_window_scale = 1, read_window_x = 0, read_window_y = 0;
  double mean_abs_z = 0;                       // mean |z_i| over seen bits
  double min_abs_z = 0;
  std::optional<WatermarkPayloadTest> payload_test;  // set when options.expected_payload was
};

// Sums the BT.709 luma of RGB8 frames of one size.
class LumaAccumulator {
 public:
  LumaAccumulator(int width, int height);
  void add_frame(std::span<const uint8_t> rgb);  // [height, width, 3] (CHECKed size)
  void add_luma(std::span<const uint8_t> luma);  // [height, width] 8-bit luma or Y' (CHECKed size)
  std::vector<float> mean() const;              // [height, width]; zeros before the first frame
  int width() const { return width_; }
  int height() const { return height_; }
  int64_t frames() const { return frames_; }

 private:
  int width_, height_;
  int64_t frames_ = 0;
  std::vector<double> sum_;  // [height, width]
};

// The detector on a mean luma picture [height, width]. kInvalidArgument when a side is below
// kWatermarkMinSide / 2 (a 0.5x-downscaled minimal clip is still read) or the rate is not in (0, 1).
Expected<WatermarkDetection> detect_watermark(const WatermarkKey& key, std::span<const float> mean_luma, int width,
                                              int height, int64_t frames, const WatermarkDetectOptions& options = {});
// The library entry point for checks after generation: frames [n, height, width, 3] RGB8.
Expected<WatermarkDetection> detect_watermark_in_frames(const WatermarkKey& key, std::span<const uint8_t> frames, int64_t n,
                                                        int width, int height, const WatermarkDetectOptions& options = {});
// Decodes a video file (media::read_mp4, at most `max_frames` frames; 0 = all) and detects.
Expected<WatermarkDetection> detect_watermark_in_file(const WatermarkKey& key, const std::string& path,
                                                      int64_t max_frames = 600, const WatermarkDetectOptions& options = {});

// Payload bits that differ between `detection` and `expected` (0..64).
int watermark_bit_errors(const WatermarkDetection& detection, uint64_t expected);

}  // namespace frugal::trust
