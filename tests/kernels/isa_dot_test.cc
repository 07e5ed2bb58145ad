// Every ISA's vec_dot and mul_mat against ref, and ref's vec_dot against an f64 dot of the
// dequantized rows. Tolerance: integer formats share exact int sums, so only the f32 summation
// order differs: |got - want| <= 2e-5 * sum|w_i * a_i| (+1e-6 absolute).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"

namespace frugal {
namespace {

using testing::OffsetBuffer;
using testing::slot;

constexpr double kRelTol = 2e-5;
constexpr double kAbsTol = 1e-6;

double tolerance(double abs_sum) { return kRelTol * abs_sum + kAbsTol; }

TEST(RefDot, MatchesF64DotOfDequantizedRows) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  for (DType w : testing::weight_dtypes()) {
    const DType a = activation_dtype(w);
    for (int64_t k : testing::test_lengths(w)) {
      int64_t wb = 0, ab = 0;
      const OffsetBuffer wq = testing::make_rows(w, testing::random_floats(k, 1), 1, k, 0, wb);
      const OffsetBuffer aq = testing::make_rows(a, testing::random_floats(k, 2), 1, k, 0, ab);
      std::vector<float> wf(static_cast<size_t>(k)), af(static_cast<size_t>(k));
      ref.dequantize_row[slot(w)](wq.data(), wf.data(), k);
      ref.dequantize_row[slot(a)](aq.data(), af.data(), k);
      double want = 0.0;
      for (int64_t i = 0; i < k; ++i) want += static_cast<double>(wf[i]) * af[i];
      const double got = ref.vec_dot[slot(w)](k, wq.data(), aq.data());
      EXPECT_NEAR(got, want, tolerance(testing::abs_dot(w, wq.data(), a, aq.data(), k)))
          << dtype_name(w) << " k=" << k;
    }
  }
}

TEST(IsaDot, VecDotMatchesRef) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    for (DType w : testing::weight_dtypes()) {
      const DType a = activation_dtype(w);
      for (int64_t k : testing::test_lengths(w)) {
        for (int64_t offset : {0, 1, 2, 3, 4, 8}) {
          int64_t wb = 0, ab = 0;
          const auto wv = testing::random_floats(k, static_cast<uint32_t>(3 * k + offset));
          const auto av = testing::random_floats(k, static_cast<uint32_t>(5 * k + offset));
          const OffsetBuffer wq = testing::make_rows(w, wv, 1, k, offset, wb);
          const OffsetBuffer aq = testing::make_rows(a, av, 1, k, (offset * 3) % 5, ab);
          const double want = ref.vec_dot[slot(w)](k, wq.data(), aq.data());
          const double got = t.vec_dot[slot(w)](k, wq.data(), aq.data());
          ASSERT_NEAR(got, want, tolerance(testing::abs_dot(w, wq.data(), a, aq.data(), k)))
              << isa_name(isa) << " " << dtype_name(w) << " k=" << k << " offset=" << offset;
        }
      }
    }
  }
}

struct MulMatCase {
  int64_t n_rows, n_tokens, row_begin, row_end;
};

// Runs one mul_mat case on `t` and checks every output against ref's vec_dot, and that outputs
// outside [row_begin, row_end) and the stride padding are untouched.
void check_mul_mat(const KernelTable& t, DType w, int64_t k, const MulMatCase& c, int64_t offset) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  const DType a = activation_dtype(w);
  int64_t wb = 0, ab = 0;
  const auto wv = testing::random_floats(c.n_rows * k, static_cast<uint32_t>(k + c.n_rows));
  const auto av = testing::random_floats(c.n_tokens * k, static_cast<uint32_t>(k + 100 * c.n_tokens));
  const OffsetBuffer wq = testing::make_rows(w, wv, c.n_rows, k, offset, wb);
  const OffsetBuffer aq = testing::make_rows(a, av, c.n_tokens, k, (offset + 1) % 4, ab);
  const int64_t stride = c.n_rows + 3;
  const float kSentinel = -12345.0f;
  std::vector<float> out(static_cast<size_t>(stride * c.n_tokens), kSentinel);
  MulMatArgs args;
  args.k = k;
  args.weights = wq.data();
  args.weight_row_bytes = wb;
  args.row_begin = c.row_begin;
  args.row_end = c.row_end;
  args.acts = aq.data();
  args.act_row_bytes = ab;
  args.n_tokens = c.n_tokens;
  args.out = out.data();
  args.out_row_stride = stride;
  t.mul_mat(w, args);
  for (int64_t token = 0; token < c.n_tokens; ++token) {
    for (int64_t row = 0; row < stride; ++row) {
      const float got = out[static_cast<size_t>(token * stride + row)];
      if (row < c.row_begin || row >= c.row_end) {
        ASSERT_EQ(got, kSentinel) << "wrote outside the row range: row " << row;
        continue;
      }
      const uint8_t* w_row = wq.data() + row * wb;
      const uint8_t* a_row = aq.data() + token * ab;
      const double want = ref.vec_dot[slot(w)](k, w_row, a_row);
      ASSERT_NEAR(got, want, tolerance(testing::abs_dot(w, w_row, a, a_row, k)))
          << isa_name(t.isa) << " " << dtype_name(w) << " k=" << k << " rows=" << c.n_rows
          << " tokens=" << c.n_tokens << " row=" << row << " token=" << token;
    }
  }
}

TEST(IsaDot, MulMatMatchesRefWithRowRangesAndStride) {
  const std::vector<MulMatCase> cases = {
      {1, 1, 0, 1}, {3, 5, 0, 3}, {5, 3, 1, 4}, {7, 7, 2, 7}, {13, 13, 0, 13}, {13, 1, 3, 12},
      {1, 13, 0, 1}, {9, 4, 0, 8}, {8, 8, 0, 8}};
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    for (DType w : testing::weight_dtypes()) {
      const int64_t block = dtype_traits(w).block_elems;
      const std::vector<int64_t> ks = block == 1 ? std::vector<int64_t>{1, 17, 33, 100}
                                                 : std::vector<int64_t>{block, 3 * block};
      for (int64_t k : ks) {
        for (size_t i = 0; i < cases.size(); ++i) check_mul_mat(t, w, k, cases[i], static_cast<int64_t>(i % 4));
      }
    }
  }
}

}  // namespace
}  // namespace frugal
