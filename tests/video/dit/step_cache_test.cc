// The step cache's decisions and what a skipped pass gets: first-order extrapolation in the
// timestep through the last two computed residuals (exact on residuals linear in t), the cap on
// consecutive skips, the unconditional streams' scaled threshold, and the mode names.
#include <gtest/gtest.h>

#include <vector>

#include "video/dit/step_cache.h"

namespace frugal::video {
namespace {

constexpr int64_t kN = 64;

// One computed call of `s` at timestep t whose blocks add `residual` to every element.
void compute(StepCacheStream& s, const std::vector<float>& m, float t, float residual) {
  ASSERT_FALSE(s.should_skip(m.data(), kN, /*force_compute=*/true, t));
  std::vector<float> x(kN, 0.25f);
  s.save_input(x.data(), kN);
  for (float& v : x) v += residual;
  s.save_residual(x.data(), kN);
}

std::vector<float> ones() { return std::vector<float>(kN, 1.0f); }

TEST(StepCacheStream, ExtrapolatesTheResidualLinearlyInTheTimestep) {
  StepCacheConfig config;
  config.threshold = 1.0;
  config.mode = StepCacheMode::kExtrapolate;
  StepCacheStream s(config);
  const auto m = ones();
  compute(s, m, 900.0f, 1.0f);
  compute(s, m, 800.0f, 2.0f);
  ASSERT_TRUE(s.should_skip(m.data(), kN, false, 700.0f));
  std::vector<float> x(kN, 10.0f);
  s.apply_residual(x.data(), kN);
  EXPECT_FLOAT_EQ(x[5], 13.0f) << "r(700) = 2 + (2 - 1) / (800 - 900) * (700 - 800) = 3";
  // Unequal spacing: t = 650 is 1.5 intervals past 800.
  ASSERT_TRUE(s.should_skip(m.data(), kN, false, 650.0f));
  std::vector<float> y(kN, 0.0f);
  s.apply_residual(y.data(), kN);
  EXPECT_FLOAT_EQ(y[63], 3.5f);
}

TEST(StepCacheStream, ReuseModeAddsTheLastResidualAsIs) {
  StepCacheStream s(1.0);  // kReuse
  const auto m = ones();
  compute(s, m, 900.0f, 1.0f);
  compute(s, m, 800.0f, 2.0f);
  ASSERT_TRUE(s.should_skip(m.data(), kN, false, 700.0f));
  std::vector<float> x(kN, 10.0f);
  s.apply_residual(x.data(), kN);
  EXPECT_FLOAT_EQ(x[0], 12.0f);
}

TEST(StepCacheStream, ExtrapolationWaitsForTwoComputedPasses) {
  StepCacheConfig config;
  config.threshold = 10.0;  // every unforced call would skip
  config.mode = StepCacheMode::kExtrapolate;
  StepCacheStream s(config);
  const auto m = ones();
  std::vector<float> x(kN, 0.0f);
  for (int call = 0; call < 2; ++call) {
    ASSERT_FALSE(s.should_skip(m.data(), kN, false, 900.0f - 100.0f * call)) << "call " << call;
    s.save_input(x.data(), kN);
    s.save_residual(x.data(), kN);
  }
  EXPECT_TRUE(s.should_skip(m.data(), kN, false, 700.0f));
  EXPECT_EQ(s.passes_run(), 2);
  EXPECT_EQ(s.passes_skipped(), 1);
}

TEST(StepCacheStream, MaxSkipsCapsTheSkipsInARow) {
  StepCacheConfig config;
  config.threshold = 10.0;
  config.max_skips = 2;
  StepCacheStream s(config);
  const auto m = ones();
  std::vector<float> x(kN, 0.0f);
  std::vector<bool> skipped;
  for (int call = 0; call < 8; ++call) {
    const bool skip = s.should_skip(m.data(), kN, false, 1000.0f - call);
    skipped.push_back(skip);
    if (!skip) {
      s.save_input(x.data(), kN);
      s.save_residual(x.data(), kN);
    }
  }
  EXPECT_EQ(skipped, (std::vector<bool>{false, true, true, false, true, true, false, true}));
  EXPECT_EQ(s.passes_run(), 3);
  EXPECT_EQ(s.passes_skipped(), 5);
}

TEST(StepCache, UnconditionalStreamsScaleTheThreshold) {
  StepCacheConfig config;
  config.threshold = 0.05;
  config.uncond_scale = 4.0;  // odd streams: 0.2
  StepCache cache(config);
  std::vector<float> m = ones(), moved(kN, 1.1f), x(kN, 0.0f);  // relative change 0.1
  for (int index : {0, 1}) {
    StepCacheStream* s = cache.stream(index);
    ASSERT_NE(s, nullptr);
    ASSERT_FALSE(s->should_skip(m.data(), kN, false, 900.0f));
    s->save_input(x.data(), kN);
    s->save_residual(x.data(), kN);
    EXPECT_EQ(s->should_skip(moved.data(), kN, false, 800.0f), index == 1) << "stream " << index;
  }
  EXPECT_EQ(cache.passes_run(), 3);
  EXPECT_EQ(cache.passes_skipped(), 1);
}

TEST(StepCache, ModeNamesRoundTripAndUnknownNamesAreRefused) {
  for (StepCacheMode mode : {StepCacheMode::kReuse, StepCacheMode::kExtrapolate}) {
    EXPECT_EQ(parse_step_cache_mode(step_cache_mode_name(mode)), mode);
  }
  EXPECT_FALSE(parse_step_cache_mode("taylor").has_value());
  EXPECT_FALSE(parse_step_cache_mode("").has_value());
}

}  // namespace
}  // namespace frugal::video
