// Embed → detect without a codec: the payload comes back at PSNR ≥ 40 dB, the wrong key and an
// unmarked clip do not detect.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "trust/watermark_detect.h"
#include "trust/watermark_embed.h"
#include "watermark_test_util.h"

namespace frugal::trust {
namespace {

using testing::mark_clip;
using testing::natural_clip;
using testing::psnr;
using testing::smooth_clip;
using testing::test_key;

struct Case {
  int width, height, frames;
  bool smooth;
};

class RoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(RoundTrip, PayloadComesBackAtPsnrAbove40) {
  const auto [w, h, n, smooth] = GetParam();
  const WatermarkKey key = test_key(7);
  const uint64_t payload = watermark_payload_for(key, "job-123");
  const std::vector<uint8_t> clip = smooth ? smooth_clip(w, h, n, 11) : natural_clip(w, h, n, 11);
  const std::vector<uint8_t> marked = mark_clip(key, payload, clip, w, h, n);
  EXPECT_GE(psnr(clip, marked), 40.0);
  auto d = detect_watermark_in_frames(key, marked, n, w, h);
  ASSERT_TRUE(d.has_value()) << d.error().to_string();
  std::printf("%dx%d: T %.1f (threshold %.1f), mean |z| %.2f, bit errors %d, PSNR %.2f dB\n", w, h, d->statistic,
              d->threshold, d->mean_abs_z, watermark_bit_errors(*d, payload), psnr(clip, marked));
  EXPECT_TRUE(d->detected);
  EXPECT_EQ(d->payload, payload);
  EXPECT_LE(d->log10_p_value, -6.0);
  EXPECT_EQ(d->grid, watermark_grid_for(w, h));
  // The unmarked clip and the marked one under another key: no detection.
  auto unmarked = detect_watermark_in_frames(key, clip, n, w, h);
  ASSERT_TRUE(unmarked.has_value());
  EXPECT_FALSE(unmarked->detected) << "T " << unmarked->statistic;
  auto wrong_key = detect_watermark_in_frames(test_key(99), marked, n, w, h);
  ASSERT_TRUE(wrong_key.has_value());
  EXPECT_FALSE(wrong_key->detected) << "T " << wrong_key->statistic;
}

INSTANTIATE_TEST_SUITE_P(Sizes, RoundTrip,
                         ::testing::Values(Case{64, 64, 17, true}, Case{832, 480, 9, false}, Case{320, 256, 5, false},
                                           Case{480, 832, 3, false}));

TEST(WatermarkEmbed, DifferentPayloadsReadBackDifferently) {
  const WatermarkKey key = test_key(3);
  const std::vector<uint8_t> clip = natural_clip(320, 256, 3, 5);
  for (const char* id : {"a", "b", "job-000000000042"}) {
    const uint64_t payload = watermark_payload_for(key, id);
    auto d = detect_watermark_in_frames(key, mark_clip(key, payload, clip, 320, 256, 3), 3, 320, 256);
    ASSERT_TRUE(d.has_value());
    EXPECT_TRUE(d->detected);
    // Three busy frames are a hard case: a bit whose 16 cells all sit on texture can flip.
    EXPECT_LE(watermark_bit_errors(*d, payload), 2) << id << ": " << payload_hex(d->payload) << " vs " << payload_hex(payload);
  }
}

// The cells cross-fade: along a row through the middle of a cell row, the change steps by at most a
// third of its peak from one pixel column to the next (hard-edged ±cells step by up to twice the
// peak at every cell border), and the default activity mask keeps a smooth picture's mark under its
// limit (PSNR well above the unmasked mark's) while it still reads.
TEST(WatermarkEmbed, CellsCrossFadeAndTheMaskQuietsSmoothPictures) {
  const WatermarkKey key = test_key(4);
  const int w = 480, h = 320;
  const std::vector<uint8_t> clip = smooth_clip(w, h, 1, 3);
  const uint64_t payload = watermark_payload_for(key, "fade");
  const std::vector<uint8_t> marked = mark_clip(key, payload, clip, w, h, 1, {2.2, /*activity_mask=*/false});
  std::vector<double> change(static_cast<size_t>(w) * h);
  for (size_t i = 0; i < change.size(); ++i) change[i] = watermark_luma(&marked[3 * i]) - watermark_luma(&clip[3 * i]);
  const int grid = watermark_grid_for(w, h);
  double peak = 0, worst_step = 0;
  for (int row = 0; row < grid; ++row) {
    int y0, y1;
    watermark_cell_span(row, grid, h, &y0, &y1);
    const int ym = (y0 + y1) / 2;
    std::vector<double> mean(static_cast<size_t>(w), 0.0);  // over the 3 middle rows: the 4x4 dither averages out
    for (int x = 0; x < w; ++x) {
      for (int y = ym - 1; y <= ym + 1; ++y) mean[static_cast<size_t>(x)] += change[static_cast<size_t>(y) * w + x] / 3;
      peak = std::max(peak, std::fabs(mean[static_cast<size_t>(x)]));
      if (x > 0) worst_step = std::max(worst_step, std::fabs(mean[static_cast<size_t>(x)] - mean[static_cast<size_t>(x) - 1]));
    }
  }
  EXPECT_GT(peak, 1.5);
  EXPECT_LT(worst_step, peak / 3) << "peak " << peak;
  // The activity mask (the default): a smooth picture keeps its mark near a level (PSNR well above
  // 40 dB), no pixel moves by more than the mask's largest limit there, and it still reads.
  const std::vector<uint8_t> quiet = mark_clip(key, payload, clip, w, h, 1);
  EXPECT_GT(psnr(clip, quiet), psnr(clip, marked) + 2.0);
  double most = 0;
  for (size_t i = 0; i < change.size(); ++i) most = std::max(most, static_cast<double>(std::fabs(watermark_luma(&quiet[3 * i]) - watermark_luma(&clip[3 * i]))));
  // 1.25 · 2 (luminance masking at most doubles it) + 0.5 σ (the smooth clip's cells: σ ≤ 2 levels) + 1 (8-bit dither).
  EXPECT_LE(most, 2.5 + 1.0 + 1.0);
  auto d = detect_watermark_in_frames(key, quiet, 1, w, h);
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->detected);
  EXPECT_EQ(d->payload, payload);
}

// The mask applies to edge-free frames only: a busy frame (texture, edges) is marked exactly as with
// the mask off, so the robustness measured for it is kept (docs/PERFORMANCE.md); a smooth one is
// marked more quietly. Setting the flat limit high enough makes the mask a no-op on the smooth one.
TEST(WatermarkEmbed, TheMaskLeavesBusyFramesAlone) {
  const WatermarkKey key = test_key(6);
  const int w = 512, h = 320;
  const uint64_t payload = watermark_payload_for(key, "busy");
  const std::vector<uint8_t> busy = natural_clip(w, h, 1, 21);
  EXPECT_EQ(mark_clip(key, payload, busy, w, h, 1), mark_clip(key, payload, busy, w, h, 1, {2.2, /*activity_mask=*/false}));
  const std::vector<uint8_t> smooth = smooth_clip(w, h, 1, 22);
  const std::vector<uint8_t> quiet = mark_clip(key, payload, smooth, w, h, 1);
  const std::vector<uint8_t> loud = mark_clip(key, payload, smooth, w, h, 1, {2.2, /*activity_mask=*/false});
  EXPECT_GT(psnr(smooth, quiet), psnr(smooth, loud) + 3.0);
  WatermarkEmbedOptions lax;
  lax.mask_flat = 16;
  EXPECT_EQ(mark_clip(key, payload, smooth, w, h, 1, lax), loud);
}

// The frame-by-frame re-reading: a few frames that carry this payload well outvote many that carry
// a weak contrary signal (what a codec's P-frames predicted across motion look like: a smeared mark
// that partly disagrees), which the mean picture does not. Weights come from each frame's own T.
TEST(WatermarkDetect, FewStrongFramesOutvoteManyWeakContraryOnes) {
  const WatermarkKey key = test_key(8);
  const int w = 320, h = 256, strong = 3, n = 12;
  const uint64_t payload = watermark_payload_for(key, "strong"), other = watermark_payload_for(key, "weak");
  std::vector<uint8_t> clip = natural_clip(w, h, n, 17);
  const size_t frame = static_cast<size_t>(w) * h * 3;
  auto good = WatermarkEmbedder::create(key, payload, w, h);
  auto weak = WatermarkEmbedder::create(key, other, w, h, {/*strength=*/0.8});
  ASSERT_TRUE(good.has_value() && weak.has_value());
  for (int f = 0; f < n; ++f) (f < strong ? *good : *weak).embed_frame(std::span<uint8_t>(clip.data() + f * frame, frame));
  WatermarkDetectOptions options;
  options.expected_payload = payload;
  auto d = detect_watermark_in_frames(key, clip, n, w, h, options);
  ASSERT_TRUE(d.has_value());
  options.combine_frames = false;
  auto mean_only = detect_watermark_in_frames(key, clip, n, w, h, options);
  ASSERT_TRUE(mean_only.has_value());
  const int errors = watermark_bit_errors(*d, payload), mean_errors = watermark_bit_errors(*mean_only, payload);
  std::printf("frame-weighted: %d bit errors (%lld frames weighted), J %.2f; mean picture: %d, J %.2f\n", errors,
              static_cast<long long>(d->frames_weighted), d->payload_test->statistic, mean_errors,
              mean_only->payload_test->statistic);
  EXPECT_EQ(mean_only->frames_weighted, 0);
  EXPECT_GT(d->frames_weighted, 0);
  EXPECT_LE(errors, 1);
  EXPECT_GE(mean_errors, errors + 4);
  EXPECT_TRUE(d->payload_test->matches);
  EXPECT_GT(d->payload_test->statistic, mean_only->payload_test->statistic);
}

TEST(WatermarkEmbed, BadSizesAndStrengthsAreErrors) {
  const WatermarkKey key = test_key(1);
  EXPECT_EQ(WatermarkEmbedder::create(key, 1, 16, 64).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WatermarkEmbedder::create(key, 1, 64, 31).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WatermarkEmbedder::create(key, 1, 64, 64, {0.0}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WatermarkEmbedder::create(key, 1, 64, 64, {100.0}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(WatermarkEmbedder::create(key, 1, 32, 32).has_value());
  // The lattice: 16 or 32 cells a side, at least 2 pixels a cell.
  EXPECT_EQ(WatermarkEmbedder::create(key, 1, 64, 64, {2.2, true, 2.0, 1.0, 0.5, 8}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WatermarkEmbedder::create(key, 1, 48, 48, {2.2, true, 2.0, 1.0, 0.5, 32}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WatermarkEmbedder::create(key, 1, 128, 128, {2.2, true, 2.0, 1.0, 0.5, 32})->grid(), 32);
  EXPECT_EQ(WatermarkEmbedder::create(key, 1, 64, 64)->grid(), watermark_grid_for(64, 64));
}

// Which lattices the detector searches depends on the picture's size only: the 16 lattice below 128
// pixels (335 alignments), both from 128 (1,630); a 128x128 clip marked on the 32 lattice reads
// back on it, and a 64x64 one on the 16 lattice.
TEST(WatermarkDetect, SmallPicturesAreSearchedOnTheirOwnLattices) {
  const WatermarkKey key = test_key(12);
  const uint64_t payload = watermark_payload_for(key, "tiny");
  for (const auto [side, grid, hypotheses] : {std::array<int, 3>{64, 16, 335}, std::array<int, 3>{128, 32, 1630}}) {
    const int n = 5;
    const std::vector<uint8_t> clip = smooth_clip(side, side, n, 5);
    const std::vector<uint8_t> marked = mark_clip(key, payload, clip, side, side, n, {2.2, true, 2.0, 1.0, 0.5, grid});
    auto d = detect_watermark_in_frames(key, marked, n, side, side);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->hypotheses, hypotheses) << side;
    EXPECT_TRUE(d->detected) << side;
    EXPECT_EQ(d->grid, grid) << side;
    EXPECT_LE(watermark_bit_errors(*d, payload), 1) << side;
  }
  EXPECT_TRUE(watermark_grid_searched(16, 64, 300) && watermark_grid_searched(32, 200, 128));
  EXPECT_FALSE(watermark_grid_searched(32, 127, 300));
}

TEST(WatermarkDetect, BadInputIsAnError) {
  const WatermarkKey key = test_key(1);
  std::vector<uint8_t> frame(8 * 8 * 3, 100);
  EXPECT_EQ(detect_watermark_in_frames(key, frame, 1, 8, 8).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(detect_watermark_in_frames(key, frame, 2, 8, 8).error().code(), StatusCode::kInvalidArgument);
  std::vector<float> luma(64 * 64, 1.0f);
  WatermarkDetectOptions options;
  options.false_positive_rate = 0;
  EXPECT_EQ(detect_watermark(key, luma, 64, 64, 1, options).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(detect_watermark_in_file(key, "/nonexistent/clip.mp4").error().code(), StatusCode::kNotFound);
}

// A flat picture: nothing to correlate, nothing detected (and no division by zero).
TEST(WatermarkDetect, FlatPictureIsNotMarked) {
  std::vector<uint8_t> frame(128 * 128 * 3, 77);
  auto d = detect_watermark_in_frames(test_key(1), frame, 1, 128, 128);
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->detected);
}

}  // namespace
}  // namespace frugal::trust
