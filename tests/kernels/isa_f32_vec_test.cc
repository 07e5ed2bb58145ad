// The attention primitives dot_rows_f32 and axpy_rows_f32 of every compiled ISA against a
// double-precision evaluation and against the ref table: odd head sizes (and the register-resident
// 32/64/80/96/128 paths), tiles of 1..67 rows gathered from scattered, misaligned offsets.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"

namespace frugal {
namespace {

const int64_t kDims[] = {1, 3, 15, 16, 17, 32, 33, 64, 80, 96, 100, 128, 257};
const int64_t kRowCounts[] = {1, 3, 4, 5, 64, 67};

// Row i of a tile starts at a scattered, not 16-float-aligned offset (row_stride 2 * dim + 3,
// rows visited out of order), the way the paged cache hands out slots.
std::vector<int64_t> scattered_offsets(int64_t n, int64_t dim) {
  std::vector<int64_t> offsets(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) offsets[static_cast<size_t>(i)] = ((i * 7) % n) * (2 * dim + 3) + 1;
  return offsets;
}

TEST(IsaF32Vec, DotRowsMatchesDoublePrecision) {
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    ASSERT_NE(t.dot_rows_f32, nullptr) << isa_name(isa);
    for (int64_t dim : kDims) {
      for (int64_t n : kRowCounts) {
        const std::vector<int64_t> offsets = scattered_offsets(n, dim);
        const auto base = testing::random_floats(n * (2 * dim + 3) + 1, static_cast<uint32_t>(dim * 7 + n));
        const auto q_buf = testing::random_floats(dim + 1, static_cast<uint32_t>(dim * 13 + n));
        const float* q = q_buf.data() + 1;  // misaligned
        const float scale = 0.125f;
        std::vector<float> got(static_cast<size_t>(n) + 1, -7.0f), ref(static_cast<size_t>(n));
        t.dot_rows_f32(q, base.data(), offsets.data(), n, dim, scale, got.data());
        kernels_for(Isa::kRef)->dot_rows_f32(q, base.data(), offsets.data(), n, dim, scale, ref.data());
        EXPECT_EQ(got[static_cast<size_t>(n)], -7.0f) << "wrote past the end";
        for (int64_t i = 0; i < n; ++i) {
          const float* row = base.data() + offsets[static_cast<size_t>(i)];
          double exact = 0, magnitude = 0;
          for (int64_t j = 0; j < dim; ++j) {
            exact += static_cast<double>(q[j]) * row[j];
            magnitude += std::fabs(static_cast<double>(q[j]) * row[j]);
          }
          exact *= scale;
          magnitude *= scale;
          // f32 accumulation in any order: a few ulps of the sum of magnitudes.
          EXPECT_NEAR(got[static_cast<size_t>(i)], exact, 4e-7 * magnitude + 1e-30)
              << isa_name(isa) << " dim=" << dim << " n=" << n << " row " << i;
          EXPECT_NEAR(got[static_cast<size_t>(i)], ref[static_cast<size_t>(i)], 8e-7 * magnitude + 1e-30)
              << isa_name(isa) << " vs ref, dim=" << dim << " n=" << n;
        }
      }
    }
  }
}

TEST(IsaF32Vec, AxpyRowsMatchesDoublePrecision) {
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    ASSERT_NE(t.axpy_rows_f32, nullptr) << isa_name(isa);
    for (int64_t dim : kDims) {
      for (int64_t n : kRowCounts) {
        const std::vector<int64_t> offsets = scattered_offsets(n, dim);
        const auto base = testing::random_floats(n * (2 * dim + 3) + 1, static_cast<uint32_t>(dim + 3 * n));
        auto w = testing::random_floats(n, static_cast<uint32_t>(dim + n + 11));
        for (float& x : w) x = std::fabs(x);  // softmax weights are >= 0
        auto acc = testing::random_floats(dim + 3, static_cast<uint32_t>(dim + 5));
        const auto acc0 = acc;
        t.axpy_rows_f32(w.data(), base.data(), offsets.data(), n, dim, acc.data() + 1);  // misaligned
        for (int64_t j = 0; j < dim; ++j) {
          double exact = acc0[static_cast<size_t>(j + 1)], magnitude = std::fabs(exact);
          for (int64_t i = 0; i < n; ++i) {
            const double term = static_cast<double>(w[static_cast<size_t>(i)]) *
                                base[static_cast<size_t>(offsets[static_cast<size_t>(i)] + j)];
            exact += term;
            magnitude += std::fabs(term);
          }
          // n multiply-adds in row order, fused or not: within n roundings of the magnitudes.
          EXPECT_NEAR(acc[static_cast<size_t>(j + 1)], exact, 1.2e-7 * static_cast<double>(n + 1) * magnitude + 1e-30)
              << isa_name(isa) << " dim=" << dim << " n=" << n << " j=" << j;
        }
        EXPECT_EQ(acc[0], acc0[0]) << "wrote before the start";
        EXPECT_EQ(acc[static_cast<size_t>(dim + 1)], acc0[static_cast<size_t>(dim + 1)]) << "wrote past the end";
      }
    }
  }
}

}  // namespace
}  // namespace frugal
