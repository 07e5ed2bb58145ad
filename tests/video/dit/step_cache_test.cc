// The step cache's decisions and what a skipped pass gets: first-order extrapolation in the
// timestep through the last two computed residuals (exact on residuals linear in t), the cap on
// consecutive skips, the unconditional streams' scaled threshold, and the mode names; the per-branch
// settings (the conditional scale, the unconditional cap), the CFG-difference cache and the step
// window.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>
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

// Second order: exact on a residual quadratic in t once three passes are computed; the line before.
TEST(StepCacheStream, QuadraticExtrapolationIsExactOnAParabola) {
  StepCacheConfig config;
  config.threshold = 10.0;
  config.max_skips = 1;
  config.mode = StepCacheMode::kQuadratic;
  StepCacheStream s(config);
  const auto r = [](float t) { return (t - 500) * (t - 500) / 1e4f; };  // 16, 9, 4, 1 at 900 .. 600
  const auto m = ones();
  std::vector<float> got;
  for (float t = 1000; t >= 300; t -= 100) {
    std::vector<float> x(kN, 0.0f);
    if (s.should_skip(m.data(), kN, false, t)) {
      s.apply_residual(x.data(), kN);
      got.push_back(x[3]);
    } else {
      s.save_input(x.data(), kN);
      for (float& v : x) v += r(t);
      s.save_residual(x.data(), kN);
    }
  }
  // Calls: run 1000, run 900, skip 800 (the line through r = 25 and 16: 16 + (16 - 25) = 7), run 700,
  // skip 600 (the parabola through 1000, 900, 700: exact), run 500, skip 400 (exact), run 300 (cap).
  ASSERT_EQ(got.size(), 3u);
  EXPECT_FLOAT_EQ(got[0], 16 - 9) << "two computed passes: the line";
  EXPECT_NEAR(got[1], r(600), 1e-4);
  EXPECT_NEAR(got[2], r(400), 1e-4);
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
  for (StepCacheMode mode : {StepCacheMode::kReuse, StepCacheMode::kExtrapolate, StepCacheMode::kQuadratic}) {
    EXPECT_EQ(parse_step_cache_mode(step_cache_mode_name(mode)), mode);
  }
  EXPECT_FALSE(parse_step_cache_mode("taylor").has_value());
  EXPECT_FALSE(parse_step_cache_mode("").has_value());
}

// One call of a stream whose blocks (when they run) add `residual`; returns whether it skipped and
// the x it produced from 0.
std::pair<bool, float> call(StepCacheStream& s, float t, float residual) {
  const auto m = ones();
  std::vector<float> x(kN, 0.0f);
  const bool skip = s.should_skip(m.data(), kN, false, t);
  if (skip) {
    s.apply_residual(x.data(), kN);
  } else {
    s.save_input(x.data(), kN);
    for (float& v : x) v += residual;
    s.save_residual(x.data(), kN);
  }
  return {skip, x[7]};
}

// cfg_delta: a skipped unconditional call adds the conditional call's residual of the same step
// (computed or extrapolated) plus the extrapolated (uncond - cond) difference; a conditional branch
// that moves alone is followed exactly, where the unconditional stream's own cache would be stale.
TEST(StepCache, CfgDeltaAddsThisStepsConditionalResidualPlusTheCachedDifference) {
  StepCacheConfig config;
  config.threshold = 10.0;
  config.mode = StepCacheMode::kExtrapolate;
  config.cond_scale = 0;  // the conditional branch always runs
  config.cfg_delta = true;
  StepCache cache(config);
  StepCacheStream* cond = cache.stream(0);
  StepCacheStream* uncond = cache.stream(1);
  // cond residual c(t) = t / 100 (not linear in the step, exact in t), uncond = c(t) - 2 + t / 1000.
  const float ts[] = {900, 800, 650, 500, 300};
  std::vector<bool> skipped;
  std::vector<float> got;
  for (float t : ts) {
    const auto c = call(*cond, t, t / 100);
    EXPECT_FALSE(c.first) << "cond_scale 0: the conditional branch never skips";
    EXPECT_FLOAT_EQ(c.second, t / 100);
    const auto u = call(*uncond, t, t / 100 - 2 + t / 1000);
    skipped.push_back(u.first);
    got.push_back(u.second);
  }
  EXPECT_EQ(skipped, (std::vector<bool>{false, false, true, true, true}));
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], ts[i] / 100 - 2 + ts[i] / 1000, 1e-4) << "t " << ts[i];
  EXPECT_EQ(cache.passes_run(), 5 + 2);
  // Without the delta the unconditional stream extrapolates its own residual, the same line here,
  // but the conditional branch's curvature is lost: check against a cond residual quadratic in t.
  StepCacheConfig own = config;
  own.cfg_delta = false;
  StepCache plain(own), delta(config);
  float err_own = 0, err_delta = 0;
  for (float t : ts) {
    const float c = t * t / 1e5f, u = c - 1;
    call(*plain.stream(0), t, c);
    call(*delta.stream(0), t, c);
    err_own = std::max(err_own, std::fabs(call(*plain.stream(1), t, u).second - u));
    err_delta = std::max(err_delta, std::fabs(call(*delta.stream(1), t, u).second - u));
  }
  EXPECT_LT(err_delta, 1e-4f);
  EXPECT_GT(err_own, 0.1f);
}

// A skipped conditional pass hands its cached residual on: the unconditional stream adds what the
// conditional one added this step plus its newest difference (reuse mode, one skip in a row each).
TEST(StepCache, CfgDeltaFollowsASkippedConditionalPass) {
  StepCacheConfig config;
  config.threshold = 10.0;
  config.max_skips = 1;
  config.cfg_delta = true;  // kReuse
  StepCache cache(config);
  StepCacheStream* cond = cache.stream(0);
  StepCacheStream* uncond = cache.stream(1);
  const std::pair<float, float> residuals[] = {{1, 3}, {50, 50}, {5, 6}, {50, 50}};  // (cond, uncond) if run
  std::vector<float> cond_x, uncond_x;
  float t = 900;
  for (const auto& [c, u] : residuals) {
    cond_x.push_back(call(*cond, t, c).second);
    uncond_x.push_back(call(*uncond, t, u).second);
    t -= 100;
  }
  EXPECT_EQ(cond_x, (std::vector<float>{1, 1, 5, 5}));
  EXPECT_EQ(uncond_x, (std::vector<float>{3, 1 + 2, 6, 5 + 1})) << "the base's residual + the newest difference";
  EXPECT_EQ(cache.passes_skipped(), 4);
}

TEST(StepCache, PerBranchScalesAndCaps) {
  StepCacheConfig config;
  config.threshold = 10.0;
  config.max_skips = 1;
  config.uncond_max_skips = 3;
  config.cond_scale = 0;
  StepCache cache(config);
  std::vector<bool> cond, uncond;
  for (int i = 0; i < 8; ++i) {
    cond.push_back(call(*cache.stream(0), 1000.0f - i, 1).first);
    uncond.push_back(call(*cache.stream(1), 1000.0f - i, 1).first);
  }
  EXPECT_EQ(cond, std::vector<bool>(8, false));
  EXPECT_EQ(uncond, (std::vector<bool>{false, true, true, true, false, true, true, true}));
  config.uncond_max_skips = -1;  // the common cap
  StepCache common(config);
  std::vector<bool> capped;
  for (int i = 0; i < 5; ++i) {
    call(*common.stream(0), 1000.0f - i, 1);
    capped.push_back(call(*common.stream(1), 1000.0f - i, 1).first);
  }
  EXPECT_EQ(capped, (std::vector<bool>{false, true, false, true, false}));
}

// Stagger: under max_skips 1 the unconditional stream computes one more call first, so the two
// branches skip on alternate calls and every step has one computed branch.
TEST(StepCache, StaggerPutsTheBranchesSkipsOnAlternateSteps) {
  StepCacheConfig config;
  config.threshold = 10.0;
  config.max_skips = 1;
  config.mode = StepCacheMode::kExtrapolate;
  config.stagger = true;
  StepCache cache(config);
  std::vector<bool> cond, uncond;
  for (int i = 0; i < 9; ++i) {
    cond.push_back(call(*cache.stream(0), 1000.0f - 100 * i, 1).first);
    uncond.push_back(call(*cache.stream(1), 1000.0f - 100 * i, 1).first);
  }
  EXPECT_EQ(cond, (std::vector<bool>{false, false, true, false, true, false, true, false, true}));
  EXPECT_EQ(uncond, (std::vector<bool>{false, false, false, true, false, true, false, true, false}));
  config.stagger = false;
  StepCache together(config);
  for (int i = 0; i < 3; ++i) {
    call(*together.stream(0), 1000.0f - 100 * i, 1);
    EXPECT_EQ(call(*together.stream(1), 1000.0f - 100 * i, 1).first, i == 2) << "without stagger the same steps";
  }
}

TEST(StepCacheConfig, TheWindowRoundsToSteps) {
  StepCacheConfig c;
  for (int step = 0; step < 30; ++step) EXPECT_TRUE(c.allows_skip(step, 30)) << step;
  c.start = 0.1;
  c.end = 0.9;  // steps 3 .. 26 of 30
  std::vector<int> allowed;
  for (int step = 0; step < 30; ++step) {
    if (c.allows_skip(step, 30)) allowed.push_back(step);
  }
  ASSERT_EQ(allowed.size(), 24u);
  EXPECT_EQ(allowed.front(), 3);
  EXPECT_EQ(allowed.back(), 26);
  c.start = c.end = 0.5;
  for (int step = 0; step < 30; ++step) EXPECT_FALSE(c.allows_skip(step, 30)) << "an empty window";
  EXPECT_FALSE(StepCacheConfig{}.allows_skip(0, 0));
}

}  // namespace
}  // namespace frugal::video
