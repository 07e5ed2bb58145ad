// Importance-weighted quantization: on random weights with a skewed importance vector, the
// weighted quantizer of each type lowers the importance-weighted error against the plain one,
// uniform importance stays close to the plain quantizer, and bad importance values are refused
// (tests/quant).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "common/random_fill.h"
#include "quant/quantize.h"
#include "quant/weighted_quantize.h"

namespace frugal {
namespace {

constexpr int64_t kRows = 64, kCols = 512;

using testing::gaussian;

// Activation mean squares as LLMs show them: log-normal, a few channels 100x the rest.
std::vector<float> skewed_importance(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::lognormal_distribution<float> dist(0.0f, 1.5f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

double error_of(DType dtype, const std::vector<float>& x, const std::vector<float>& importance, bool weighted) {
  auto q = weighted ? quantize_rows_weighted(dtype, x.data(), kRows, kCols, importance.data())
                    : quantize_rows(dtype, x.data(), kRows, kCols);
  EXPECT_TRUE(q.has_value());
  auto y = dequantize_rows(dtype, q->data(), kRows, kCols);
  EXPECT_TRUE(y.has_value());
  return weighted_sq_error(x.data(), y->data(), kRows, kCols, importance.data());
}

class WeightedQuantizeTest : public ::testing::TestWithParam<DType> {};

TEST_P(WeightedQuantizeTest, LowersImportanceWeightedErrorVsPlain) {
  const DType dtype = GetParam();
  ASSERT_TRUE(has_weighted_quantizer(dtype));
  for (uint32_t seed : {1u, 2u, 3u}) {
    const auto x = gaussian(kRows * kCols, seed);
    const auto importance = skewed_importance(kCols, seed + 100);
    const double plain = error_of(dtype, x, importance, false);
    const double weighted = error_of(dtype, x, importance, true);
    EXPECT_LT(weighted, 0.9 * plain) << dtype_name(dtype) << " seed " << seed << ": weighted " << weighted
                                     << " vs plain " << plain;
  }
}

TEST_P(WeightedQuantizeTest, UniformImportanceStaysNearPlainError) {
  const DType dtype = GetParam();
  const auto x = gaussian(kRows * kCols, 7);
  const std::vector<float> ones(kCols, 1.0f);
  const double plain = error_of(dtype, x, ones, false);
  const double weighted = error_of(dtype, x, ones, true);
  EXPECT_LT(weighted, 1.1 * plain) << dtype_name(dtype);
}

TEST_P(WeightedQuantizeTest, RefusesNegativeOrNonFiniteImportance) {
  const DType dtype = GetParam();
  const auto x = gaussian(kRows * kCols, 9);
  for (float bad : {-1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<float> importance(kCols, 1.0f);
    importance[5] = bad;
    auto q = quantize_rows_weighted(dtype, x.data(), kRows, kCols, importance.data());
    ASSERT_FALSE(q.has_value());
    EXPECT_NE(q.error().message().find("column 5"), std::string::npos) << q.error().message();
  }
}

TEST_P(WeightedQuantizeTest, RefusesRowLengthOffTheBlockSize) {
  const DType dtype = GetParam();
  const auto x = gaussian(kCols, 11);
  const std::vector<float> ones(kCols, 1.0f);
  EXPECT_FALSE(quantize_rows_weighted(dtype, x.data(), 1, 100, ones.data()).has_value());
}

INSTANTIATE_TEST_SUITE_P(Types, WeightedQuantizeTest,
                         ::testing::Values(DType::kQ4_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(WeightedQuantize, TypesWithoutAWeightedSearchFallBackToPlain) {
  EXPECT_FALSE(has_weighted_quantizer(DType::kQ8_0));
  const auto x = gaussian(4 * 64, 13);
  const std::vector<float> importance(64, 2.0f);
  auto a = quantize_rows_weighted(DType::kQ8_0, x.data(), 4, 64, importance.data());
  auto b = quantize_rows(DType::kQ8_0, x.data(), 4, 64);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(*a, *b);
}

}  // namespace
}  // namespace frugal
