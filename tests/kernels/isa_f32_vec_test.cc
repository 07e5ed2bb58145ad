// The attention primitives dot_rows_f32, axpy_rows_f32 and max_f32 of every compiled ISA against a
// double-precision evaluation and against the ref table: odd head sizes (and the register-resident
// 32/64/80/96/128 paths), tiles of 1..67 rows gathered from scattered, misaligned offsets, blocks
// of 1..14 queries. A query's result must be the same bits whether it is computed alone or in a
// block (batch invariance), and its rows past its own count must not touch it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"

namespace frugal {
namespace {

const int64_t kDims[] = {1, 3, 15, 16, 17, 32, 33, 64, 80, 96, 100, 128, 257};
const int64_t kRowCounts[] = {1, 3, 4, 5, 16, 17, 64, 67};
const int64_t kQueryCounts[] = {1, 3, 14};

// Row i of a tile starts at a scattered, not 16-float-aligned offset (row_stride 2 * dim + 3,
// rows visited out of order), the way the paged cache hands out slots.
std::vector<int64_t> scattered_offsets(int64_t n, int64_t dim) {
  std::vector<int64_t> offsets(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) offsets[static_cast<size_t>(i)] = ((i * 7) % n) * (2 * dim + 3) + 1;
  return offsets;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(IsaF32Vec, DotRowsMatchesDoublePrecisionForEveryQueryOfABlock) {
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    ASSERT_NE(t.dot_rows_f32, nullptr) << isa_name(isa);
    for (int64_t dim : kDims) {
      for (int64_t n : kRowCounts) {
        for (int64_t n_q : kQueryCounts) {
          const std::vector<int64_t> offsets = scattered_offsets(n, dim);
          const auto base = testing::random_floats(n * (2 * dim + 3) + 1, static_cast<uint32_t>(dim * 7 + n));
          const auto q_buf = testing::random_floats(n_q * dim + 1, static_cast<uint32_t>(dim * 13 + n + n_q));
          const float* q = q_buf.data() + 1;  // misaligned
          const float scale = 0.125f;
          const int64_t stride = n + 2;  // scores rows with a gap that must stay untouched
          std::vector<float> got(static_cast<size_t>(n_q * stride), -7.0f), ref(static_cast<size_t>(n_q * stride));
          t.dot_rows_f32(q, n_q, base.data(), offsets.data(), n, dim, scale, got.data(), stride);
          kernels_for(Isa::kRef)->dot_rows_f32(q, n_q, base.data(), offsets.data(), n, dim, scale, ref.data(), stride);
          for (int64_t j = 0; j < n_q; ++j) {
            const float* g = got.data() + j * stride;
            EXPECT_EQ(g[n], -7.0f) << "wrote past the row's scores";
            EXPECT_EQ(g[n + 1], -7.0f) << "wrote past the row's scores";
            std::vector<float> alone(static_cast<size_t>(n) + 1, -7.0f);
            t.dot_rows_f32(q + j * dim, 1, base.data(), offsets.data(), n, dim, scale, alone.data(), n);
            for (int64_t i = 0; i < n; ++i) {
              const float* row = base.data() + offsets[static_cast<size_t>(i)];
              double exact = 0, magnitude = 0;
              for (int64_t d = 0; d < dim; ++d) {
                exact += static_cast<double>(q[j * dim + d]) * row[d];
                magnitude += std::fabs(static_cast<double>(q[j * dim + d]) * row[d]);
              }
              exact *= scale;
              magnitude *= scale;
              // f32 accumulation in any order: a few ulps of the sum of magnitudes.
              EXPECT_NEAR(g[i], exact, 4e-7 * magnitude + 1e-30)
                  << isa_name(isa) << " dim=" << dim << " n=" << n << " query " << j << " row " << i;
              EXPECT_NEAR(g[i], ref[static_cast<size_t>(j * stride + i)], 8e-7 * magnitude + 1e-30)
                  << isa_name(isa) << " vs ref, dim=" << dim << " n=" << n;
              EXPECT_TRUE(same_bits(g[i], alone[static_cast<size_t>(i)]))
                  << isa_name(isa) << " dim=" << dim << " n=" << n << " n_q=" << n_q << ": query " << j << " row " << i
                  << " differs from the query alone";
            }
          }
        }
      }
    }
  }
}

TEST(IsaF32Vec, AxpyRowsMatchesDoublePrecisionForEveryQueryOfABlock) {
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    ASSERT_NE(t.axpy_rows_f32, nullptr) << isa_name(isa);
    for (int64_t dim : kDims) {
      for (int64_t n : kRowCounts) {
        for (int64_t n_q : kQueryCounts) {
          const std::vector<int64_t> offsets = scattered_offsets(n, dim);
          const auto base = testing::random_floats(n * (2 * dim + 3) + 1, static_cast<uint32_t>(dim + 3 * n));
          const int64_t w_stride = n + 1;
          auto w = testing::random_floats(n_q * w_stride, static_cast<uint32_t>(dim + n + 11 + n_q));
          for (float& x : w) x = std::fabs(x);  // softmax weights are >= 0
          // Each query takes its own leading rows (a causal block): all, none, and counts between.
          std::vector<int64_t> n_rows(static_cast<size_t>(n_q));
          for (int64_t j = 0; j < n_q; ++j) n_rows[static_cast<size_t>(j)] = j == 0 ? n : (n * (n_q - j) + j) / (n_q + 1);
          auto acc = testing::random_floats(n_q * dim + 2, static_cast<uint32_t>(dim + 5));
          const auto acc0 = acc;
          t.axpy_rows_f32(w.data(), w_stride, n_rows.data(), n_q, base.data(), offsets.data(), dim, acc.data() + 1);
          EXPECT_EQ(acc[0], acc0[0]) << "wrote before the start";
          EXPECT_EQ(acc[static_cast<size_t>(n_q * dim + 1)], acc0[static_cast<size_t>(n_q * dim + 1)]) << "wrote past the end";
          for (int64_t j = 0; j < n_q; ++j) {
            const int64_t rows = n_rows[static_cast<size_t>(j)];
            std::vector<float> alone(acc0.begin() + 1 + j * dim, acc0.begin() + 1 + (j + 1) * dim);
            t.axpy_rows_f32(w.data() + j * w_stride, w_stride, &rows, 1, base.data(), offsets.data(), dim, alone.data());
            for (int64_t d = 0; d < dim; ++d) {
              const size_t at = static_cast<size_t>(1 + j * dim + d);
              double exact = acc0[at], magnitude = std::fabs(exact);
              for (int64_t i = 0; i < rows; ++i) {
                const double term = static_cast<double>(w[static_cast<size_t>(j * w_stride + i)]) *
                                    base[static_cast<size_t>(offsets[static_cast<size_t>(i)] + d)];
                exact += term;
                magnitude += std::fabs(term);
              }
              // rows multiply-adds in row order, fused or not: within rows + 1 roundings of the magnitudes.
              EXPECT_NEAR(acc[at], exact, 1.2e-7 * static_cast<double>(rows + 1) * magnitude + 1e-30)
                  << isa_name(isa) << " dim=" << dim << " n=" << n << " query " << j << " d=" << d;
              EXPECT_TRUE(same_bits(acc[at], alone[static_cast<size_t>(d)]))
                  << isa_name(isa) << " dim=" << dim << " n=" << n << " n_q=" << n_q << ": query " << j
                  << " differs from the query alone";
            }
          }
        }
      }
    }
  }
}

TEST(IsaF32Vec, MaxIsExactAtEveryLength) {
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    ASSERT_NE(t.max_f32, nullptr) << isa_name(isa);
    for (int64_t n = 1; n <= 67; ++n) {
      auto x = testing::random_floats(n + 1, static_cast<uint32_t>(n * 3 + 1));
      for (int64_t at : {int64_t{0}, n / 2, n - 1}) {  // the maximum first, in the middle, in the tail
        auto y = x;
        y[static_cast<size_t>(at + 1)] = 100.0f + static_cast<float>(at);
        const float* v = y.data() + 1;  // misaligned
        EXPECT_EQ(t.max_f32(v, n), 100.0f + static_cast<float>(at)) << isa_name(isa) << " n=" << n << " at " << at;
        EXPECT_EQ(t.max_f32(v, n), kernels_for(Isa::kRef)->max_f32(v, n)) << isa_name(isa) << " n=" << n;
      }
      std::vector<float> negative(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) negative[static_cast<size_t>(i)] = -1000.0f - static_cast<float>((i * 37) % n);
      EXPECT_EQ(t.max_f32(negative.data(), n), -1000.0f) << isa_name(isa) << " n=" << n << ": all negative";
    }
  }
}

}  // namespace
}  // namespace frugal
