// Every ISA's mul_mat against ref's vec_dot on the shapes the 512-bit bodies special-case: k with
// whole 4-block groups plus 1..3 ragged blocks (type-0), several super-blocks (K-quants), k not a
// multiple of 16 (F16), decode (1 token) and prefill tiles with ragged rows/tokens, misaligned rows.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"

namespace frugal {
namespace {

using testing::OffsetBuffer;
using testing::slot;

double tolerance(double abs_sum) { return 2e-5 * abs_sum + 1e-6; }

std::vector<int64_t> lengths(DType w) {
  const int64_t block = dtype_traits(w).block_elems;
  if (block == 1) return {15, 16, 17, 47, 48, 2048 + 5};
  if (block == 32) return {4 * 32, 5 * 32, 6 * 32, 7 * 32, 8 * 32, 64 * 32 + 96};
  return {256, 2 * 256, 5 * 256, 8 * 256};
}

void check(const KernelTable& t, DType w, int64_t k, int64_t n_rows, int64_t n_tokens, int64_t offset) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  const DType a = activation_dtype(w);
  int64_t wb = 0, ab = 0;
  const auto wv = testing::random_floats(n_rows * k, static_cast<uint32_t>(7 * k + n_rows), 0.5f);
  const auto av = testing::random_floats(n_tokens * k, static_cast<uint32_t>(11 * k + n_tokens), 2.0f);
  const OffsetBuffer wq = testing::make_rows(w, wv, n_rows, k, offset, wb);
  const OffsetBuffer aq = testing::make_rows(a, av, n_tokens, k, (offset + 3) % 7, ab);
  std::vector<float> out(static_cast<size_t>(n_rows * n_tokens), -1.0f);
  t.mul_mat(w, testing::full_mul_mat_args(k, wq.data(), wb, n_rows, aq.data(), ab, n_tokens, out.data()));
  for (int64_t token = 0; token < n_tokens; ++token) {
    for (int64_t row = 0; row < n_rows; ++row) {
      const uint8_t* w_row = wq.data() + row * wb;
      const uint8_t* a_row = aq.data() + token * ab;
      const double want = ref.vec_dot[slot(w)](k, w_row, a_row);
      ASSERT_NEAR(out[static_cast<size_t>(token * n_rows + row)], want,
                  tolerance(testing::abs_dot(w, w_row, a, a_row, k)))
          << isa_name(t.isa) << " " << dtype_name(w) << " k=" << k << " rows=" << n_rows
          << " tokens=" << n_tokens << " row=" << row << " token=" << token << " offset=" << offset;
    }
  }
}

TEST(IsaMulMatShapes, DecodeAndPrefillTilesMatchRef) {
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    for (DType w : testing::weight_dtypes()) {
      for (int64_t k : lengths(w)) {
        for (int64_t n_tokens : {1, 2, 3, 4, 5, 6, 7, 9}) {  // 3, 6, 7: the 2-token remainder tile
          for (int64_t n_rows : {1, 4, 7}) check(t, w, k, n_rows, n_tokens, (k + n_rows + n_tokens) % 5);
        }
      }
    }
  }
}

// Prefill with more tokens than one activation repack chunk (64 tokens).
TEST(IsaMulMatShapes, LongPrefillMatchesRef) {
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    for (DType w : {DType::kQ4_0, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K, DType::kF16}) {
      check(t, w, dtype_traits(w).block_elems == 1 ? 100 : 512, 6, 131, 1);
    }
  }
}

}  // namespace
}  // namespace frugal
