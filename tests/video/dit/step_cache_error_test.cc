// The step cache's error control (StepCacheConfig::error_tol): the curvature kappa each computed
// call measures from how far the line through the two computed calls before it missed, the skips
// it allows (summed predicted error kappa * |(t - t1)(t - t0)| below the tolerance), and that it is
// off by default (the plain schedule, whatever the residuals do).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "video/dit/step_cache.h"

namespace frugal::video {
namespace {

constexpr int64_t kN = 32;

// One call at timestep t of a stream whose blocks (when they run) add r(t) to every element of
// an x of 1s (so the relative error is the error of the one value); returns whether it skipped.
bool call(StepCacheStream& s, float t, const std::function<double(double)>& r, float* added = nullptr) {
  const std::vector<float> m(kN, 1.0f);
  std::vector<float> x(kN, 1.0f);
  const bool skip = s.should_skip(m.data(), kN, false, t);
  if (skip) {
    s.apply_residual(x.data(), kN);
  } else {
    s.save_input(x.data(), kN);
    for (float& v : x) v += static_cast<float>(r(t));
    s.save_residual(x.data(), kN);
  }
  if (added != nullptr) *added = x[3] - 1.0f;
  return skip;
}

StepCacheConfig controlled(double tol, int max_skips) {
  StepCacheConfig c;
  c.threshold = 10.0;  // the accumulated-change test never binds: only the error control decides
  c.mode = StepCacheMode::kExtrapolate;
  c.max_skips = max_skips;
  c.error_tol = tol;
  return c;
}

TEST(StepCacheErrorControl, IsOffByDefault) {
  EXPECT_EQ(StepCacheConfig{}.error_tol, 0.0);
  // A wildly curved residual: without a tolerance the schedule is the plain one (every other call
  // under max_skips 1), and kappa is never measured.
  StepCacheConfig c = controlled(0.0, 1);
  StepCacheStream s(c);
  const auto r = [](double t) { return 1.0 + (t - 500) * (t - 500) / 100.0; };
  std::vector<bool> skipped;
  for (int i = 0; i < 8; ++i) skipped.push_back(call(s, 1000.0f - 100 * i, r));
  EXPECT_EQ(skipped, (std::vector<bool>{false, false, true, false, true, false, true, false}));
  EXPECT_LT(s.curvature(), 0.0);
}

// Three computed calls at t = 1000, 900, 800 (forced), the curvature measured at the third.
void prime(StepCacheStream& s, const std::function<double(double)>& r) {
  const std::vector<float> m(kN, 1.0f);
  for (int i = 0; i < 3; ++i) {
    const float t = 1000.0f - 100 * i;
    std::vector<float> x(kN, 1.0f);
    ASSERT_FALSE(s.should_skip(m.data(), kN, /*force_compute=*/true, t));
    s.save_input(x.data(), kN);
    for (float& v : x) v += static_cast<float>(r(t));
    s.save_residual(x.data(), kN);
  }
}

// r(t) = 1 + a (t - 1000)^2, relative curvature ~1e-6 per timestep^2.
constexpr double kA = 1e-6;
double parabola(double t) { return 1.0 + kA * (t - 1000) * (t - 1000); }

TEST(StepCacheErrorControl, MeasuresTheCurvatureOfTheResidual) {
  // The line through t = 1000 and 900 misses r(800) by a (800 - 900)(800 - 1000) = 2e4 a, so
  // kappa = (2e4 a / r(800)) / 2e4 = a / r(800).
  StepCacheStream s(controlled(1e-9, 1));
  EXPECT_LT(s.curvature(), 0.0) << "not measured yet";
  prime(s, parabola);
  EXPECT_NEAR(s.curvature(), kA / parabola(800), 1e-3 * kA);
  // A residual linear in t: the line is exact, kappa 0 (up to float rounding), and every call the
  // cap allows skips. Until kappa is known (three computed calls) the plain rules allow one skip in
  // a row: call 2 skips, call 3 computes (the third computed call), then two skips per run.
  StepCacheStream line(controlled(1e-6, 2));
  const auto lin = [](double t) { return 3.0 - t / 1000; };
  std::vector<bool> skipped;
  for (int i = 0; i < 9; ++i) skipped.push_back(call(line, 1000.0f - 100 * i, lin));
  EXPECT_NEAR(line.curvature(), 0.0, 1e-10);
  EXPECT_EQ(skipped, (std::vector<bool>{false, false, true, false, true, true, false, true, true}));
}

TEST(StepCacheErrorControl, TheSummedPredictedErrorDecidesARunOfSkips) {
  // After 1000, 900, 800: a skip at 700 predicts one = kappa (700 - 800)(700 - 900) = 2e4 kappa, a
  // second one at 600 adds kappa (600 - 800)(600 - 900) = 6e4 kappa.
  StepCacheStream probe(controlled(1.0, 10));
  prime(probe, parabola);
  const double kappa = probe.curvature();
  ASSERT_GT(kappa, 0.0);
  const double one = kappa * 2e4, two = one + kappa * 6e4;
  const auto run = [&](double tol) {
    StepCacheStream s(controlled(tol, 10));
    prime(s, parabola);
    std::vector<bool> skipped;
    for (int i = 3; i < 6; ++i) skipped.push_back(call(s, 1000.0f - 100 * i, parabola));
    return skipped;
  };
  // Below one: every call computes (each computed call re-measures kappa = a / r(t), a little
  // smaller each time, but the next skip still predicts > 0.9 one).
  EXPECT_EQ(run(0.5 * one), (std::vector<bool>{false, false, false}));
  // Between one and two: skip at 700, compute at 600 (the sum would pass the tolerance), and at 500
  // the new stencil (800, 600) predicts kappa' (500 - 600)(500 - 800) = 3e4 a / r(600) < tol: skip.
  EXPECT_EQ(run(0.5 * (one + two)), (std::vector<bool>{true, false, true}));
  // Above two: two skips, then the third would add 1.2e5 kappa.
  EXPECT_EQ(run(1.5 * two), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(run(10.0), (std::vector<bool>{true, true, true})) << "only the cap and the tolerance bind";
}

TEST(StepCacheErrorControl, ASkippedCallStillAddsTheLine) {
  // The tolerance decides whether to skip, not what a skip adds: the line through the last two
  // computed residuals (800 and 900: 1.04 + 0.03 = 1.07 at 700).
  StepCacheStream s(controlled(1.0, 1));
  prime(s, parabola);
  float added = 0;
  ASSERT_TRUE(call(s, 700.0f, parabola, &added));
  EXPECT_NEAR(added, 1.07, 1e-5);
}

// With stagger the two CFG branches of a step decide together: never both skip without the pair
// tolerance, and the branch whose skip would err more is the one that computes.
TEST(StepCacheErrorControl, PairedBranchesKeepOneExactBranchPerStep) {
  StepCacheConfig c = controlled(1.0, 3);
  c.stagger = true;
  c.error_pair = 0;  // never both
  StepCache cache(c);
  std::vector<bool> cond, uncond;
  for (int i = 0; i < 12; ++i) {
    const float t = 1000.0f - 80 * i;
    cond.push_back(call(*cache.stream(0), t, parabola));
    uncond.push_back(call(*cache.stream(1), t, [](double x) { return parabola(x) + 0.5; }));
    EXPECT_FALSE(cond.back() && uncond.back()) << "step " << i;
  }
  EXPECT_GE(cache.passes_skipped(), 8) << "one branch skips in nearly every step";
  // A curved conditional residual and a straight unconditional one: once both curvatures are known
  // the unconditional branch skips up to its cap (3: steps 3-5, 7-9, 11) and the conditional one
  // computes, except on the steps where the unconditional one must compute (6, 10).
  StepCache lopsided(c);
  cond.clear();
  uncond.clear();
  for (int i = 0; i < 12; ++i) {
    const float t = 1000.0f - 80 * i;
    cond.push_back(call(*lopsided.stream(0), t, [](double x) { return 1.0 + 1e-5 * (x - 1000) * (x - 1000); }));
    uncond.push_back(call(*lopsided.stream(1), t, [](double x) { return 3.0 - x / 1000; }));
  }
  EXPECT_EQ(std::vector<bool>(cond.begin() + 4, cond.end()),
            (std::vector<bool>{false, false, true, false, false, false, true, false}));
  EXPECT_EQ(std::vector<bool>(uncond.begin() + 3, uncond.end()),
            (std::vector<bool>{true, true, true, false, true, true, true, false, true}));
  // Both skip while their summed predicted error is below error_tol * error_pair: straight
  // residuals (kappa ~0) skip together up to the cap.
  c.error_pair = 0.5;
  StepCache straight(c);
  int both = 0;
  for (int i = 0; i < 12; ++i) {
    const float t = 1000.0f - 80 * i;
    const bool a = call(*straight.stream(0), t, [](double x) { return 3.0 - x / 1000; });
    const bool b = call(*straight.stream(1), t, [](double x) { return 2.0 - x / 2000; });
    both += a && b;
  }
  EXPECT_GE(both, 3);
}

}  // namespace
}  // namespace frugal::video
