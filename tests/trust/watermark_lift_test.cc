// Lifting weak bits on masked (edge-free) frames, WatermarkEmbedOptions::lift_weak_bits: off by
// default; on, it strengthens the bits a modelled CRF 28 + 0.5x attack would leave weak, and only on
// frames the activity mask quiets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>

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

WatermarkEmbedOptions lifted() {
  WatermarkEmbedOptions options;
  options.lift_weak_bits = true;
  return options;
}

// What the attack leaves, modelled in the pixels: the unmarked clip plus `kept` of the mark plus
// Gaussian noise of `noise` levels per pixel and frame (a fixed seed), in RGB alike.
std::vector<uint8_t> attack(const std::vector<uint8_t>& clip, const std::vector<uint8_t>& marked, double kept, double noise,
                            uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> gauss(0, noise);
  std::vector<uint8_t> out(clip.size());
  for (size_t i = 0; i < clip.size(); i += 3) {
    const double n = gauss(rng);
    for (size_t ch = 0; ch < 3; ++ch) {
      const double v = clip[i + ch] + kept * (static_cast<double>(marked[i + ch]) - clip[i + ch]) + n;
      out[i + ch] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
    }
  }
  return out;
}

TEST(WatermarkLift, OffByDefaultAndBusyFramesAreNotLifted) {
  const WatermarkKey key = test_key(12);
  const int w = 480, h = 320;
  const uint64_t payload = watermark_payload_for(key, "lift");
  const std::vector<uint8_t> smooth = smooth_clip(w, h, 1, 5);
  WatermarkEmbedOptions off;
  off.lift_weak_bits = false;
  EXPECT_EQ(mark_clip(key, payload, smooth, w, h, 1, {}), mark_clip(key, payload, smooth, w, h, 1, off));
  // On a smooth (masked) frame the lift changes the mark; on a busy one (never masked) it does not.
  EXPECT_NE(mark_clip(key, payload, smooth, w, h, 1, lifted()), mark_clip(key, payload, smooth, w, h, 1, off));
  const std::vector<uint8_t> busy = natural_clip(w, h, 1, 6);
  EXPECT_EQ(mark_clip(key, payload, busy, w, h, 1, lifted()), mark_clip(key, payload, busy, w, h, 1, off));
}

// Under the attack the lift models (a third of the mark kept, codec-like noise), the lifted mark's
// weakest bits are stronger and no more bits fall than without; PSNR stays above 40 dB.
TEST(WatermarkLift, WeakBitsSurviveAWeakenedReadBetter) {
  const WatermarkKey key = test_key(13);
  const int w = 480, h = 320, n = 3;
  const uint64_t payload = watermark_payload_for(key, "weak-bits");
  const std::vector<uint8_t> clip = smooth_clip(w, h, n, 9);
  const std::vector<uint8_t> plain = mark_clip(key, payload, clip, w, h, n, {});
  const std::vector<uint8_t> lift = mark_clip(key, payload, clip, w, h, n, lifted());
  EXPECT_GE(psnr(clip, lift), 40.0);
  EXPECT_LT(psnr(clip, lift), psnr(clip, plain));  // the lift spends more where it is needed
  double plain_z = 0, lift_z = 0;
  int plain_errors = 0, lift_errors = 0;
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    auto a = detect_watermark_in_frames(key, attack(clip, plain, 0.28, 2.5, seed), n, w, h);
    auto b = detect_watermark_in_frames(key, attack(clip, lift, 0.28, 2.5, seed), n, w, h);
    ASSERT_TRUE(a.has_value() && b.has_value());
    plain_errors += watermark_bit_errors(*a, payload);
    lift_errors += watermark_bit_errors(*b, payload);
    // The mean of the 8 weakest |z|: the bits the lift is for.
    for (auto [d, sum] : {std::pair{&*a, &plain_z}, std::pair{&*b, &lift_z}}) {
      std::array<double, kWatermarkBits> z{};
      for (int bit = 0; bit < kWatermarkBits; ++bit) z[bit] = std::fabs(d->bit_z[bit]);
      std::sort(z.begin(), z.end());
      for (int i = 0; i < 8; ++i) *sum += z[i] / 8;
    }
  }
  std::printf("weakened read, 3 noise draws: bit errors %d plain, %d lifted; weakest-8 |z| %.2f plain, %.2f lifted; PSNR %.2f / %.2f dB\n",
              plain_errors, lift_errors, plain_z / 3, lift_z / 3, psnr(clip, plain), psnr(clip, lift));
  EXPECT_LE(lift_errors, plain_errors);
  EXPECT_GT(lift_z, 1.2 * plain_z);
}

TEST(WatermarkLift, BadLiftOptionsAreErrors) {
  const WatermarkKey key = test_key(14);
  WatermarkEmbedOptions options = lifted();
  options.weak_bit_z = 0;
  EXPECT_EQ(WatermarkEmbedder::create(key, 1, 64, 64, options).error().code(), StatusCode::kInvalidArgument);
  options = lifted();
  options.max_lift = 0.5;
  EXPECT_EQ(WatermarkEmbedder::create(key, 1, 64, 64, options).error().code(), StatusCode::kInvalidArgument);
  options.max_lift = 4;
  EXPECT_TRUE(WatermarkEmbedder::create(key, 1, 64, 64, options).has_value());
}

}  // namespace
}  // namespace frugal::trust
