// GELU (tanh approximation, the Wan DiT's FFN activation) on every kernel table this machine runs:
// against the PyTorch formula 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) in double precision;
// and SiLU through the table's vector exp (the Wan VAE's activation) against x / (1 + e^-x) in double.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernel_table.h"
#include "ops/elementwise.h"

namespace frugal {
namespace {

double gelu_tanh_double(double x) {
  const double u = std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x);
  // 0.5 (1 + tanh(u)) written as 1 / (1 + exp(-2u)) is the same number; in double either is exact
  // enough (the tanh form cancels only below float resolution here).
  return x / (1.0 + std::exp(-2.0 * u));
}

std::vector<float> test_inputs() {
  std::vector<float> x;
  for (float v = -12.0f; v <= 12.0f; v += 0.001953125f) x.push_back(v);  // every 1/512 over the useful range
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  for (int i = 0; i < 4099; ++i) x.push_back(dist(rng));  // an odd count: vector tails
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-6f, -1e-6f, 40.0f, -40.0f, 100.0f, -100.0f, 1e10f, -1e10f,
                  std::numeric_limits<float>::max(), std::numeric_limits<float>::lowest()}) {
    x.push_back(v);
  }
  return x;
}

TEST(Gelu, MatchesTheDoubleFormulaOnEveryIsa) {
  const std::vector<float> input = test_inputs();
  for (Isa isa : available_isas()) {
    SCOPED_TRACE(std::string(isa_name(isa)));
    std::vector<float> x = input;
    gelu_tanh_inplace(x.data(), static_cast<int64_t>(x.size()), *kernels_for(isa));
    for (size_t i = 0; i < x.size(); ++i) {
      const double want = gelu_tanh_double(input[i]);
      ASSERT_FALSE(std::isnan(x[i])) << "x = " << input[i];
      // A few float ulps of the result, plus the float rounding of the exponent 2u carried through exp
      // (relative error ~ |2u| ulp: the conditioning of exp, not of the method), or denormal-small.
      const double two_u = 2.0 * std::sqrt(2.0 / M_PI) * std::fabs(input[i] + 0.044715 * input[i] * input[i] * input[i]);
      const double rel = 2e-6 + 3e-7 * std::min(two_u, 200.0);
      EXPECT_NEAR(x[i], want, rel * std::fabs(want) + 1e-37) << "x = " << input[i];
    }
  }
}

TEST(Gelu, LargeNegativeInputsGoToZeroNotNan) {
  for (Isa isa : available_isas()) {
    SCOPED_TRACE(std::string(isa_name(isa)));
    std::vector<float> x = {-20.0f, -50.0f, -1e20f, std::numeric_limits<float>::lowest()};
    gelu_tanh_inplace(x.data(), static_cast<int64_t>(x.size()), *kernels_for(isa));
    for (float v : x) EXPECT_EQ(v, 0.0f);
  }
}

TEST(Gelu, TheDefaultTableOverloadAgreesWithTheTableInUse) {
  std::vector<float> a = test_inputs(), b = a;
  gelu_tanh_inplace(a.data(), static_cast<int64_t>(a.size()));
  gelu_tanh_inplace(b.data(), static_cast<int64_t>(b.size()), kernels());
  EXPECT_EQ(a, b);
}

// SiLU with the table's exp: a few ulps of the double formula (plus exp's conditioning, |x| ulp),
// large negative inputs to -0 (never NaN), on every ISA.
TEST(Silu, TableExpMatchesTheDoubleFormulaOnEveryIsa) {
  const std::vector<float> input = test_inputs();
  for (Isa isa : available_isas()) {
    SCOPED_TRACE(std::string(isa_name(isa)));
    std::vector<float> x = input;
    silu_inplace(x.data(), static_cast<int64_t>(x.size()), *kernels_for(isa));
    for (size_t i = 0; i < x.size(); ++i) {
      const double want = static_cast<double>(input[i]) / (1.0 + std::exp(-static_cast<double>(input[i])));
      ASSERT_FALSE(std::isnan(x[i])) << "x = " << input[i];
      const double rel = 2e-6 + 3e-7 * std::min(std::fabs(static_cast<double>(input[i])), 200.0);
      EXPECT_NEAR(x[i], want, rel * std::fabs(want) + 1e-37) << "x = " << input[i];
    }
  }
}

}  // namespace
}  // namespace frugal
