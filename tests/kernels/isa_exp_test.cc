// The exp kernels (exp_shifted_f32 for softmax numerators, silu_mul_f32 for SwiGLU) of every
// compiled ISA against double-precision exp and against the ref table: arrays of 0..70 elements at
// misaligned addresses, the range limits (underflow to 0, overflow to +inf, NaN), no writes outside
// [0, n), and the same result for an element wherever it sits in the array (batch invariance).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"

namespace frugal {
namespace {

constexpr float kGuard = -7.0f;

// Relative error of an f32 result against the exact value, in units of f32 epsilon.
double ulps(float got, double exact) {
  if (exact == 0.0) return got == 0.0f ? 0.0 : std::numeric_limits<double>::infinity();
  return std::fabs(static_cast<double>(got) - exact) / (std::fabs(exact) * std::numeric_limits<float>::epsilon());
}

TEST(IsaExp, ExpShiftedIsWithinTwoUlpAndSumsItsOutputs) {
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    ASSERT_NE(t.exp_shifted_f32, nullptr) << isa_name(isa);
    for (int64_t n = 0; n <= 70; ++n) {
      const auto src = testing::random_floats(n, static_cast<uint32_t>(100 + n), 20.0f);  // e^-60 .. e^60
      const float shift = n % 3 == 0 ? 0.0f : 7.5f;
      std::vector<float> buf(static_cast<size_t>(n) + 2, kGuard);
      std::copy(src.begin(), src.end(), buf.begin() + 1);  // misaligned by one float
      const float sum = t.exp_shifted_f32(buf.data() + 1, n, shift);
      EXPECT_EQ(buf.front(), kGuard) << "wrote before the start";
      EXPECT_EQ(buf.back(), kGuard) << "wrote past the end";
      double exact_sum = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        const double exact = std::exp(static_cast<double>(src[static_cast<size_t>(i)] - shift));
        exact_sum += exact;
        EXPECT_LE(ulps(buf[static_cast<size_t>(i) + 1], exact), 2.0)
            << isa_name(isa) << " exp(" << src[static_cast<size_t>(i)] << " - " << shift << ")";
      }
      // n f32 additions of positive terms, each within 2 ulp.
      EXPECT_NEAR(sum, exact_sum, exact_sum * 1.2e-7 * static_cast<double>(n + 2) + 1e-30)
          << isa_name(isa) << " n=" << n;
    }
  }
}

TEST(IsaExp, ExpShiftedHandlesTheRangeLimits) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    std::vector<float> x = {-inf, -1000.0f, -104.0f, 0.0f, 1.0f, -1.0f, 88.0f, 89.0f, 1000.0f, inf};
    std::vector<float> y = x;
    t.exp_shifted_f32(y.data(), static_cast<int64_t>(y.size()), 0.0f);
    EXPECT_EQ(y[0], 0.0f) << isa_name(isa);
    EXPECT_EQ(y[1], 0.0f) << isa_name(isa);
    EXPECT_LT(y[2], 1e-38f) << isa_name(isa);  // below the smallest normal: 0 or a denormal
    EXPECT_EQ(y[3], 1.0f) << isa_name(isa);
    EXPECT_LE(ulps(y[4], std::exp(1.0)), 2.0) << isa_name(isa);
    EXPECT_LE(ulps(y[5], std::exp(-1.0)), 2.0) << isa_name(isa);
    EXPECT_LE(ulps(y[6], std::exp(88.0)), 2.0) << isa_name(isa);
    EXPECT_EQ(y[7], inf) << isa_name(isa);
    EXPECT_EQ(y[8], inf) << isa_name(isa);
    EXPECT_EQ(y[9], inf) << isa_name(isa);
    std::vector<float> z = {1.0f, nan, 2.0f};
    t.exp_shifted_f32(z.data(), 3, 0.0f);
    EXPECT_TRUE(std::isnan(z[1])) << isa_name(isa);
    EXPECT_LE(ulps(z[2], std::exp(2.0)), 2.0) << isa_name(isa);
  }
}

TEST(IsaExp, SiluMulMatchesDoublePrecisionAndRef) {
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    ASSERT_NE(t.silu_mul_f32, nullptr) << isa_name(isa);
    for (int64_t n : {0, 1, 7, 8, 9, 15, 16, 17, 33, 70, 768}) {
      auto gate = testing::random_floats(n, static_cast<uint32_t>(200 + n), 4.0f);
      if (n >= 8) {  // the extremes: silu(-100) = -0, silu(100) = 100, silu(0) = 0
        gate[0] = -100.0f;
        gate[1] = 100.0f;
        gate[2] = 0.0f;
        gate[3] = -90.0f;
      }
      const auto up = testing::random_floats(n + 1, static_cast<uint32_t>(300 + n));
      std::vector<float> got(static_cast<size_t>(n) + 2, kGuard), ref = gate;
      std::copy(gate.begin(), gate.end(), got.begin() + 1);
      t.silu_mul_f32(got.data() + 1, up.data() + 1, n);  // both misaligned
      kernels_for(Isa::kRef)->silu_mul_f32(ref.data(), up.data() + 1, n);
      EXPECT_EQ(got.front(), kGuard) << "wrote before the start";
      EXPECT_EQ(got.back(), kGuard) << "wrote past the end";
      for (int64_t i = 0; i < n; ++i) {
        const double g = gate[static_cast<size_t>(i)];
        const double exact = g / (1.0 + std::exp(-g)) * up[static_cast<size_t>(i) + 1];
        const float v = got[static_cast<size_t>(i) + 1];
        // exp within 2 ulp, then a divide and a multiply: a few ulp of the result.
        EXPECT_NEAR(v, exact, std::fabs(exact) * 5 * 1.2e-7 + 1e-30) << isa_name(isa) << " g=" << g;
        EXPECT_NEAR(v, ref[static_cast<size_t>(i)], std::fabs(exact) * 8 * 1.2e-7 + 1e-30) << isa_name(isa) << " vs ref";
      }
    }
  }
}

// An element's result is the same bits whether it is in the vector body or the tail, at any offset.
TEST(IsaExp, AnElementsResultDoesNotDependOnItsPlaceInTheArray) {
  const auto values = testing::random_floats(40, 77u, 6.0f);
  const auto up = testing::random_floats(40, 78u);
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    std::vector<float> whole_exp = values, whole_silu = values;
    t.exp_shifted_f32(whole_exp.data(), 40, 1.5f);
    t.silu_mul_f32(whole_silu.data(), up.data(), 40);
    for (int64_t begin = 0; begin < 40; begin += 3) {
      for (int64_t len : {1, 5, 8, 13}) {
        const int64_t n = std::min<int64_t>(len, 40 - begin);
        std::vector<float> part_exp(values.begin() + begin, values.begin() + begin + n);
        std::vector<float> part_silu = part_exp;
        t.exp_shifted_f32(part_exp.data(), n, 1.5f);
        t.silu_mul_f32(part_silu.data(), up.data() + begin, n);
        for (int64_t i = 0; i < n; ++i) {
          EXPECT_EQ(part_exp[static_cast<size_t>(i)], whole_exp[static_cast<size_t>(begin + i)]) << isa_name(isa);
          EXPECT_EQ(part_silu[static_cast<size_t>(i)], whole_silu[static_cast<size_t>(begin + i)]) << isa_name(isa);
        }
      }
    }
  }
}

}  // namespace
}  // namespace frugal
