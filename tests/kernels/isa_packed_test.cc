// Packed (load-time re-laid-out) weights: every ISA table that packs a weight type is checked
// against ref's vec_dot on the original rows -- row counts that leave a padded last group of 16
// and groups of 1..8 strips, row ranges starting inside the matrix, 1..13 tokens (every tile width
// and remainder), 16 (one AMX tile) and 70 (two token chunks), k of one block up to 66 blocks
// (Q4_K / Q6_K: 1 and 5 super-blocks; F16: any k),
// misaligned source rows and activation rows -- and must not write outside its rows. Q4_K / Q6_K
// must equal ref's vec_dot bit for bit, and so must their scalar reference over the packed layout
// (ref::packed_k_mul_mat, packed_k_layout.h) on every machine.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/kernel_table.h"
#include "kernels/packed_k_layout.h"
#include "kernels/ref/ref_packed_k.h"
#include "quant/q8_0.h"
#include "quant/q8_k.h"

namespace frugal {
namespace {

using testing::OffsetBuffer;
using testing::slot;

constexpr float kUntouched = -12345.0f;
constexpr DType kPackableTypes[] = {DType::kQ4_0, DType::kQ8_0, DType::kF16, DType::kQ4_K, DType::kQ6_K};

// How one implementation packs and multiplies: an ISA table's entries, or the scalar reference.
struct PackedImpl {
  std::string name;
  KernelTable::PackedSizeFn size;
  KernelTable::PackRowsFn pack;
  KernelTable::MulMatFn mul_mat;
};

PackedImpl table_impl(const KernelTable& t, DType w) {
  return {std::string(isa_name(t.isa)), t.packed_size[slot(w)], t.pack_rows[slot(w)], t.mul_mat_packed};
}

PackedImpl scalar_reference_impl(DType w) {
  return {"ref::packed_k", w == DType::kQ4_K ? packed_k::q4k_size : packed_k::q6k_size,
          w == DType::kQ4_K ? packed_k::pack_rows_q4k : packed_k::pack_rows_q6k, ref::packed_k_mul_mat};
}

bool is_k_quant(DType w) { return w == DType::kQ4_K || w == DType::kQ6_K; }

void check(const PackedImpl& t, DType w, int64_t k, int64_t n_rows, int64_t row_begin, int64_t n_tokens) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  const DType a = activation_dtype(w);
  ASSERT_TRUE(a == DType::kQ8_0 || a == DType::kQ8_K || a == DType::kF16) << dtype_name(a);
  int64_t wb = 0, ab = 0;
  const auto wv = testing::random_floats(n_rows * k, static_cast<uint32_t>(3 * k + n_rows), 0.5f);
  const auto av = testing::random_floats(n_tokens * k, static_cast<uint32_t>(5 * k + n_tokens), 2.0f);
  const OffsetBuffer wq = testing::make_rows(w, wv, n_rows, k, 3, wb);
  const OffsetBuffer aq = testing::make_rows(a, av, n_tokens, k, 5, ab);

  std::vector<uint8_t> packed(static_cast<size_t>(t.size(n_rows, k)) + 64);
  t.pack(wq.data(), n_rows, k, packed.data());
  // Q8_0 / Q8_K activations carry per-block level sums and scales; F16 activations are used as they are.
  const int64_t n_blocks = a == DType::kQ8_0 ? k / 32 : a == DType::kQ8_K ? k / 256 : 0;
  const int64_t n_sums = a == DType::kQ8_K ? k / 16 : n_blocks;
  std::vector<int32_t> sums(static_cast<size_t>(n_sums * n_tokens));
  std::vector<float> scales(static_cast<size_t>(n_blocks * n_tokens));
  for (int64_t tok = 0; n_blocks > 0 && tok < n_tokens; ++tok) {
    if (a == DType::kQ8_K) {
      q8_k_block_sums(aq.data() + tok * ab, n_blocks, n_tokens, sums.data() + tok, scales.data() + tok);
    } else {
      q8_0_block_sums(aq.data() + tok * ab, n_blocks, n_tokens, sums.data() + tok, scales.data() + tok);
    }
  }
  std::vector<float> out(static_cast<size_t>(n_rows * n_tokens), kUntouched);
  MulMatArgs args = testing::full_mul_mat_args(k, packed.data(), wb, n_rows, aq.data(), ab, n_tokens, out.data());
  args.row_begin = row_begin;
  args.act_block_sums = sums.data();
  args.act_block_scales = scales.data();
  t.mul_mat(w, args);
  for (int64_t tok = 0; tok < n_tokens; ++tok) {
    for (int64_t row = 0; row < n_rows; ++row) {
      const float got = out[static_cast<size_t>(tok * n_rows + row)];
      if (row < row_begin) {
        ASSERT_EQ(got, kUntouched) << "wrote row " << row << " outside [" << row_begin << ", " << n_rows << ")";
        continue;
      }
      const uint8_t* w_row = wq.data() + row * wb;
      const uint8_t* a_row = aq.data() + tok * ab;
      const float want = ref.vec_dot[slot(w)](k, w_row, a_row);
      if (is_k_quant(w)) {  // exact integer sums, then ref's f32 operations in ref's order
        ASSERT_EQ(got, want) << t.name << " " << dtype_name(w) << " k=" << k << " rows=" << n_rows
                             << " begin=" << row_begin << " tokens=" << n_tokens << " row=" << row << " token=" << tok;
        continue;
      }
      // Q8_0: exact integer block sums; only the f32 scaling and summation order differ
      // from ref. F16: exact products, one sequential f32 sum over k (ref sums in another order).
      const double rel = w == DType::kF16 ? 1e-4 : 2e-5;
      ASSERT_NEAR(got, want, rel * testing::abs_dot(w, w_row, a, a_row, k) + 1e-6)
          << t.name << " " << dtype_name(w) << " k=" << k << " rows=" << n_rows << " begin=" << row_begin
          << " tokens=" << n_tokens << " row=" << row << " token=" << tok;
    }
  }
}

TEST(IsaPacked, PackedMulMatMatchesRefOnOddShapes) {
  int tables_with_packing = 0;
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    for (DType w : kPackableTypes) {
      if (t.packed_size[slot(w)] == nullptr) continue;
      ASSERT_NE(t.pack_rows[slot(w)], nullptr) << isa_name(isa);
      ASSERT_NE(t.mul_mat_packed, nullptr) << isa_name(isa);
      ++tables_with_packing;
      const std::vector<int64_t> ks = w == DType::kF16 ? std::vector<int64_t>{1, 17, 96, 300}
                                      : is_k_quant(w)  ? std::vector<int64_t>{256, 5 * 256}
                                                       : std::vector<int64_t>{32, 96, 66 * 32};
      // 1..8 strips at once and a padded last strip (F16 decode takes 8 strips per pass).
      const std::vector<int64_t> row_counts =
          w == DType::kF16 ? std::vector<int64_t>{1, 16, 37, 48, 127, 200} : std::vector<int64_t>{1, 16, 37, 48};
      for (int64_t k : ks) {
        for (int64_t n_rows : row_counts) {
          for (int64_t n_tokens : {1, 2, 3, 7, 8, 13, 16}) {
            check(table_impl(t, w), w, k, n_rows, 0, n_tokens);
            if (n_rows > kPackedRowGroup) check(table_impl(t, w), w, k, n_rows, kPackedRowGroup, n_tokens);
          }
          check(table_impl(t, w), w, k, n_rows, 0, 70);
        }
      }
    }
  }
  if (kernels_for(Isa::kAvx512) != nullptr) {
    EXPECT_GE(tables_with_packing, 5) << "AVX-512 VNNI packs Q4_0, Q8_0, F16, Q4_K and Q6_K";
  }
  if (tables_with_packing == 0) GTEST_SKIP() << "no ISA on this machine packs weights (AVX-512 VNNI does)";
}

// The scalar reference over the packed K-quant layouts (runs on every machine) is ref's vec_dot.
TEST(IsaPacked, ScalarReferenceOfPackedKQuantsIsRefBitForBit) {
  for (DType w : {DType::kQ4_K, DType::kQ6_K}) {
    for (int64_t k : {256, 3 * 256}) {
      for (int64_t n_rows : {1, 16, 37}) {
        check(scalar_reference_impl(w), w, k, n_rows, 0, 3);
        if (n_rows > kPackedRowGroup) check(scalar_reference_impl(w), w, k, n_rows, kPackedRowGroup, 2);
      }
    }
  }
}

// The packed size is what 16-row groups of the original bytes take: decode reads no more.
TEST(IsaPacked, PackedSizeEqualsPaddedOriginalSize) {
  for (Isa isa : available_isas()) {
    const KernelTable& t = *kernels_for(isa);
    for (DType w : kPackableTypes) {
      if (t.packed_size[slot(w)] == nullptr) continue;
      for (int64_t n_rows : {1, 16, 17, 4096}) {
        const int64_t groups = (n_rows + kPackedRowGroup - 1) / kPackedRowGroup;
        EXPECT_EQ(t.packed_size[slot(w)](n_rows, 2048), groups * kPackedRowGroup * dtype_row_bytes(w, 2048))
            << isa_name(isa) << " " << dtype_name(w) << " rows=" << n_rows;
      }
    }
  }
}

}  // namespace
}  // namespace frugal
