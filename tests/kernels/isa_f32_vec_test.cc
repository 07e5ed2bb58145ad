// The attention primitives dot_f32 and axpy_f32 of every compiled ISA against a double-precision
// evaluation and against the ref table, on odd lengths and misaligned pointers.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"

namespace frugal {
namespace {

TEST(IsaF32Vec, DotMatchesDoublePrecisionOnOddLengthsAndOffsets) {
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    ASSERT_NE(t.dot_f32, nullptr) << isa_name(isa);
    for (int64_t n : {1, 3, 15, 16, 17, 31, 32, 33, 64, 100, 128, 257}) {
      for (int64_t offset : {0, 1, 3}) {
        const auto a = testing::random_floats(n + offset, static_cast<uint32_t>(n * 7 + offset));
        const auto b = testing::random_floats(n + offset, static_cast<uint32_t>(n * 13 + offset + 1));
        double exact = 0, magnitude = 0;
        for (int64_t i = 0; i < n; ++i) {
          exact += static_cast<double>(a[offset + i]) * b[offset + i];
          magnitude += std::fabs(static_cast<double>(a[offset + i]) * b[offset + i]);
        }
        const float got = t.dot_f32(a.data() + offset, b.data() + offset, n);
        // f32 accumulation in any order: a few ulps of the sum of magnitudes.
        EXPECT_NEAR(got, exact, 4e-7 * magnitude + 1e-30) << isa_name(isa) << " n=" << n << " offset=" << offset;
        const float ref = kernels_for(Isa::kRef)->dot_f32(a.data() + offset, b.data() + offset, n);
        EXPECT_NEAR(got, ref, 8e-7 * magnitude + 1e-30) << isa_name(isa) << " vs ref, n=" << n;
      }
    }
  }
}

TEST(IsaF32Vec, AxpyIsExactElementwiseOnOddLengthsAndOffsets) {
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    ASSERT_NE(t.axpy_f32, nullptr) << isa_name(isa);
    for (int64_t n : {1, 5, 16, 17, 33, 128, 129}) {
      for (int64_t offset : {0, 2}) {
        const auto x = testing::random_floats(n + offset, static_cast<uint32_t>(n + 3));
        auto y = testing::random_floats(n + offset + 1, static_cast<uint32_t>(n + 5));
        const auto y0 = y;
        const float alpha = 0.375f;
        t.axpy_f32(alpha, x.data() + offset, y.data() + offset, n);
        for (int64_t i = 0; i < n; ++i) {
          // One multiply-add per element; fused or not, within one rounding of the exact value.
          const double exact = static_cast<double>(y0[offset + i]) + static_cast<double>(alpha) * x[offset + i];
          EXPECT_NEAR(y[offset + i], exact, 1e-6 * (std::fabs(exact) + 1)) << isa_name(isa) << " i=" << i;
        }
        EXPECT_EQ(y[offset + n], y0[offset + n]) << "wrote past the end";
        for (int64_t i = 0; i < offset; ++i) EXPECT_EQ(y[i], y0[i]) << "wrote before the start";
      }
    }
  }
}

}  // namespace
}  // namespace frugal
