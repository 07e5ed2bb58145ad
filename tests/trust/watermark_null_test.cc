// The false-positive side: the χ² Chernoff bound itself, its threshold, and an empirical check that
// unmarked clips (and clips marked under other keys) stay far from the 1e-6 verdict.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "trust/watermark_detect.h"
#include "trust/watermark_embed.h"
#include "trust/watermark_null.h"
#include "watermark_test_util.h"

namespace frugal::trust {
namespace {

TEST(WatermarkNull, ChernoffBoundShapeAndThreshold) {
  EXPECT_EQ(log_chi2_chernoff_tail(10, 64), 0.0);  // below the mean the bound is trivial
  EXPECT_EQ(log_chi2_chernoff_tail(64, 64), 0.0);
  double previous = 0;
  for (double t = 70; t < 400; t += 10) {  // strictly falling past k
    const double now = log_chi2_chernoff_tail(t, 64);
    EXPECT_LT(now, previous);
    previous = now;
  }
  const double t1 = chi2_chernoff_threshold(64, 1e-6, 1);
  EXPECT_NEAR(log_chi2_chernoff_tail(t1, 64), std::log(1e-6), 1e-6);
  // The exact χ²_64 upper 1e-6 quantile is about 136; a Chernoff bound must sit above it.
  EXPECT_GT(t1, 136.0);
  EXPECT_LT(t1, 160.0);
  // More hypotheses need a higher threshold (union bound).
  EXPECT_GT(chi2_chernoff_threshold(64, 1e-6, 1630), t1);
}

// Monte Carlo of the statistic the bound covers: normalised Rademacher sums with fixed, heavy-
// tailed weights (a picture's residuals), 16 cells per bit, 64 bits. The bound at 1e-2 and 1e-3
// must hold empirically.
TEST(WatermarkNull, RademacherStatisticStaysUnderTheBound) {
  std::mt19937_64 rng(1234);
  std::cauchy_distribution<double> heavy(0, 1);
  std::vector<double> weights(64 * 16);
  for (double& w : weights) w = heavy(rng);
  const double t_1e2 = chi2_chernoff_threshold(64, 1e-2, 1), t_1e3 = chi2_chernoff_threshold(64, 1e-3, 1);
  const int trials = 20000;
  int over_1e2 = 0, over_1e3 = 0;
  for (int trial = 0; trial < trials; ++trial) {
    double statistic = 0;
    for (int bit = 0; bit < 64; ++bit) {
      double corr = 0, energy = 0;
      uint64_t coins = rng();
      for (int cell = 0; cell < 16; ++cell) {
        const double w = weights[static_cast<size_t>(bit * 16 + cell)];
        corr += (coins >> cell & 1) ? w : -w;
        energy += w * w;
      }
      statistic += corr * corr / energy;
    }
    over_1e2 += statistic >= t_1e2;
    over_1e3 += statistic >= t_1e3;
  }
  std::printf("P(T >= t(1e-2)) = %.5f, P(T >= t(1e-3)) = %.5f over %d trials\n", over_1e2 / double(trials),
              over_1e3 / double(trials), trials);
  EXPECT_LE(over_1e2, trials / 100);
  EXPECT_LE(over_1e3, trials / 1000 + 2);
}

// Unmarked clips and clips marked under another key, each read with its own key: no detection at
// 1e-6, and the single-alignment p-value bound is calibrated (at most ~1 % of clips at p ≤ 1e-2).
TEST(WatermarkNull, UnmarkedAndForeignKeyClipsAreNotDetected) {
  const int clips = 60;
  int detected = 0, small_p = 0;
  double best_log10_p = 0;
  for (int clip_idx = 0; clip_idx < clips; ++clip_idx) {
    const int w = clip_idx % 2 ? 96 : 64, h = 64, n = 2;
    std::vector<uint8_t> clip = testing::natural_clip(w, h, n, 1000 + clip_idx);
    if (clip_idx % 3 == 0) {  // marked, but with a key the detector does not hold
      auto embedder = WatermarkEmbedder::create(testing::test_key(200), 0x0123456789abcdefULL, w, h);
      const size_t frame = static_cast<size_t>(w) * h * 3;
      for (int f = 0; f < n; ++f) embedder->embed_frame(std::span<uint8_t>(clip.data() + f * frame, frame));
    }
    const WatermarkKey key = testing::test_key(static_cast<uint8_t>(clip_idx));
    auto d = detect_watermark_in_frames(key, clip, n, w, h);
    ASSERT_TRUE(d.has_value());
    detected += d->detected;
    best_log10_p = std::min(best_log10_p, d->log10_p_value);
    WatermarkDetectOptions identity;
    identity.search_crops = false;
    auto single = detect_watermark_in_frames(key, clip, n, w, h, identity);
    ASSERT_TRUE(single.has_value());
    small_p += single->log10_p_value <= -2.0;
  }
  std::printf("%d unmarked clips: %d detected, smallest p-value bound 10^%.2f, %d with identity p <= 1e-2\n", clips,
              detected, best_log10_p, small_p);
  EXPECT_EQ(detected, 0);
  EXPECT_GT(best_log10_p, -6.0);
  EXPECT_LE(small_p, 2);
}

// The known-payload test (detect --job-id, the worker's read-back): J must be a normalised
// Rademacher sum under each null — an unmarked clip, a clip marked under another key, and a clip
// strongly marked under this key with another job's payload. Then E[J²] = 1 exactly and P(J ≥ t) ≤
// exp(−t²/2). An unnormalised sum (Σ s_i z_i / sqrt(k)) would have E[J²] = T / k ≫ 1 in the third
// group, where T is in the hundreds: this is what the test would catch.
TEST(WatermarkNull, KnownPayloadTestIsCalibratedUnderEveryNull_slow) {
  const int per_group = 40;
  const char* names[] = {"unmarked", "foreign key", "this key, other job"};
  for (int group = 0; group < 3; ++group) {
    double sum_j2 = 0;
    int matches = 0, over = 0, blind = 0;
    for (int i = 0; i < per_group; ++i) {
      const int w = 64, h = 64, n = 2;
      const uint32_t seed = 5000 + 100 * group + i;
      std::vector<uint8_t> clip = group == 0 ? testing::natural_clip(w, h, n, seed) : testing::smooth_clip(w, h, n, seed);
      const WatermarkKey key = testing::test_key(static_cast<uint8_t>(i + 1));
      if (group > 0) {
        const WatermarkKey mark_key = group == 1 ? testing::test_key(static_cast<uint8_t>(i + 101)) : key;
        auto embedder = WatermarkEmbedder::create(mark_key, watermark_payload_for(mark_key, "job-" + std::to_string(i)), w, h);
        const size_t frame = static_cast<size_t>(w) * h * 3;
        for (int f = 0; f < n; ++f) embedder->embed_frame(std::span<uint8_t>(clip.data() + f * frame, frame));
      }
      WatermarkDetectOptions options;
      options.expected_payload = watermark_payload_for(key, "the-job-asked-about-" + std::to_string(i));
      auto d = detect_watermark_in_frames(key, clip, n, w, h, options);
      ASSERT_TRUE(d.has_value());
      ASSERT_TRUE(d->payload_test.has_value());
      blind += d->detected;
      const double j = d->payload_test->statistic;
      sum_j2 += j * j;
      matches += d->payload_test->matches;
      over += j >= std::sqrt(2 * std::log(10.0));  // bound: P ≤ 0.1
    }
    const double mean_j2 = sum_j2 / per_group;
    std::printf("%s: mean J^2 %.2f, %d of %d with J beyond the 0.1 bound, %d matches, %d blind detections\n", names[group],
                mean_j2, over, per_group, matches, blind);
    EXPECT_EQ(matches, 0) << names[group];
    EXPECT_LT(mean_j2, 1.8) << names[group];
    EXPECT_LE(over, per_group / 10 + 6) << names[group];
    if (group == 2) {
      EXPECT_GE(blind, per_group * 3 / 4) << "the other job's mark must be strong for this to test anything";
    }
  }
}

// The known-payload test finds the job's own mark and only that job's.
TEST(WatermarkNull, KnownPayloadTestMatchesOnlyTheRightJob) {
  const int w = 320, h = 256, n = 3;
  std::vector<uint8_t> clip = testing::natural_clip(w, h, n, 77);
  const WatermarkKey key = testing::test_key(42);
  auto embedder = WatermarkEmbedder::create(key, watermark_payload_for(key, "video_right"), w, h);
  const size_t frame = static_cast<size_t>(w) * h * 3;
  for (int f = 0; f < n; ++f) embedder->embed_frame(std::span<uint8_t>(clip.data() + f * frame, frame));
  WatermarkDetectOptions options;
  options.expected_payload = watermark_payload_for(key, "video_right");
  auto right = detect_watermark_in_frames(key, clip, n, w, h, options);
  ASSERT_TRUE(right.has_value());
  EXPECT_TRUE(right->payload_test->matches) << right->payload_test->statistic;
  EXPECT_GT(right->payload_test->statistic, right->payload_test->threshold);
  EXPECT_LE(right->payload_test->statistic, std::sqrt(static_cast<double>(right->bits_seen)) + 1e-9);
  options.expected_payload = watermark_payload_for(key, "video_wrong");
  auto wrong = detect_watermark_in_frames(key, clip, n, w, h, options);
  ASSERT_TRUE(wrong.has_value());
  EXPECT_FALSE(wrong->payload_test->matches) << wrong->payload_test->statistic;
  EXPECT_TRUE(wrong->detected);  // the blind verdict still sees a mark: just not this job's
}

}  // namespace
}  // namespace frugal::trust
