// Rope3d: band sizes, the identity at the origin, and the rotation against its direct formula
// (adjacent pairs, each band's own width in the exponent, float64).
#include "video/dit/rope3d.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace frugal::video {
namespace {

TEST(Rope3d, BandSizes) {
  const Rope3d real(128);
  EXPECT_EQ(real.band_pairs(0), 22);
  EXPECT_EQ(real.band_pairs(1), 21);
  EXPECT_EQ(real.band_pairs(2), 21);
  const Rope3d dit_b(44);
  EXPECT_EQ(dit_b.band_pairs(0), 8);
  EXPECT_EQ(dit_b.band_pairs(1), 7);
  EXPECT_EQ(dit_b.band_pairs(2), 7);
  const Rope3d dit_a(16);
  EXPECT_EQ(dit_a.band_pairs(0), 4);
  EXPECT_EQ(dit_a.band_pairs(1), 2);
  EXPECT_EQ(dit_a.band_pairs(2), 2);
}

TEST(Rope3d, MatchesTheDirectFormula) {
  constexpr int64_t kHeads = 2, kHeadDim = 44, kF = 3, kH = 4, kW = 5;
  const Rope3d rope(kHeadDim);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(kF * kH * kW * kHeads * kHeadDim));
  for (float& v : x) v = normal(rng);
  std::vector<float> rotated = x;
  ThreadPool pool(2);
  rope.apply(rotated.data(), kHeads, kF, kH, kW, pool);
  const int64_t bands[3] = {8, 7, 7};
  double max_err = 0.0;
  for (int64_t token = 0; token < kF * kH * kW; ++token) {
    const int64_t pos[3] = {token / (kH * kW), (token / kW) % kH, token % kW};
    for (int64_t head = 0; head < kHeads; ++head) {
      int64_t pair = 0;
      for (int axis = 0; axis < 3; ++axis) {
        for (int64_t j = 0; j < bands[axis]; ++j, ++pair) {
          const double angle = pos[axis] * std::pow(10000.0, -2.0 * j / (2.0 * bands[axis]));
          const size_t i = static_cast<size_t>((token * kHeads + head) * kHeadDim + 2 * pair);
          const double re = x[i] * std::cos(angle) - x[i + 1] * std::sin(angle);
          const double im = x[i] * std::sin(angle) + x[i + 1] * std::cos(angle);
          max_err = std::max({max_err, std::abs(rotated[i] - re), std::abs(rotated[i + 1] - im)});
        }
      }
    }
  }
  EXPECT_LT(max_err, 1e-6);
  // Token (0, 0, 0) is not rotated.
  for (int64_t i = 0; i < kHeads * kHeadDim; ++i) EXPECT_EQ(rotated[static_cast<size_t>(i)], x[static_cast<size_t>(i)]);
}

}  // namespace
}  // namespace frugal::video
