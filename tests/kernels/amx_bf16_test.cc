// The AMX-BF16 F16 prefill (kernels/x86_avx512/amx_bf16_f16.h) against its scalar reference
// (kernels/ref/ref_bf16_split.h), on every table that grants it (split_bf16 set: AVX-512 and amx
// tables where the CPU and the OS grant AMX-BF16), and the split itself on every machine.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "core/fp16.h"
#include "kernel_test_util.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "kernels/ref/ref_bf16_split.h"

namespace frugal {
namespace {

constexpr float kUntouched = -12345.0f;

// The split is exact for F16 values (hi + lo == x) and keeps 16 significant bits of f32 values.
TEST(AmxBf16, ScalarSplitIsExactForF16AndCloseForF32) {
  const auto v = testing::random_floats(4096, 7, 3.0f);
  std::vector<uint16_t> hi(v.size()), lo(v.size());
  std::vector<float> f16(v.size());
  for (size_t i = 0; i < v.size(); ++i) f16[i] = f16_to_f32(f32_to_f16(v[i]));
  ref::split_bf16(f16.data(), static_cast<int64_t>(f16.size()), hi.data(), lo.data());
  for (size_t i = 0; i < v.size(); ++i) {
    ASSERT_EQ(ref::bf16_bits_to_f32(hi[i]) + ref::bf16_bits_to_f32(lo[i]), f16[i]) << i;
  }
  ref::split_bf16(v.data(), static_cast<int64_t>(v.size()), hi.data(), lo.data());
  for (size_t i = 0; i < v.size(); ++i) {
    const double sum = static_cast<double>(ref::bf16_bits_to_f32(hi[i])) + ref::bf16_bits_to_f32(lo[i]);
    ASSERT_LE(std::fabs(sum - v[i]), std::ldexp(std::fabs(v[i]), -16)) << i;
    ASSERT_LE(std::fabs(ref::bf16_bits_to_f32(hi[i]) - v[i]), std::ldexp(std::fabs(v[i]), -8)) << i;
  }
  EXPECT_EQ(ref::bf16_rne_bits(1.0f + std::ldexp(1.0f, -8)), 0x3f80) << "a tie rounds to even";
  EXPECT_EQ(ref::bf16_rne_bits(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82) << "a tie rounds to even";
}

// Tables that grant AMX-BF16 (none where the CPU lacks it or the OS refuses tile data).
std::vector<const KernelTable*> amx_bf16_tables() {
  std::vector<const KernelTable*> tables;
  for (Isa isa : available_isas()) {
    if (kernels_for(isa)->split_bf16 != nullptr) tables.push_back(kernels_for(isa));
  }
  return tables;
}

TEST(AmxBf16, TablesSetTheSplitOnlyWhereTheCpuGrantsAmxBf16) {
  const std::vector<const KernelTable*> tables = amx_bf16_tables();
  EXPECT_EQ(!tables.empty(), cpu_features().supports_amx_bf16());
  EXPECT_EQ(kernels_for(Isa::kRef)->split_bf16, nullptr);
}

TEST(AmxBf16, VectorSplitEqualsScalarReference) {
  const int64_t k = 64, n = 40;  // 3 token tiles, the last one partial
  auto v = testing::random_floats(n * k, 11, 100.0f);
  v[0] = 0.0f, v[1] = -0.0f, v[2] = std::numeric_limits<float>::denorm_min(), v[3] = 1.0f + std::ldexp(1.0f, -8);
  v[4] = 65504.0f, v[5] = -1e30f;
  const size_t plane = 48 * k;
  for (const KernelTable* t : amx_bf16_tables()) {
    for (const auto& [begin, end] : std::vector<std::pair<int64_t, int64_t>>{{0, n}, {5, 21}, {39, 40}}) {
      std::vector<uint16_t> hi(plane, 0xabcd), lo(plane, 0xabcd), want_hi(plane, 0xabcd), want_lo(plane, 0xabcd);
      t->split_bf16(v.data(), k, begin, end, hi.data(), lo.data());
      ref::split_bf16_tiles(v.data(), k, begin, end, want_hi.data(), want_lo.data());
      ASSERT_EQ(hi, want_hi) << isa_name(t->isa) << " tokens " << begin << ".." << end << " (and nothing else written)";
      ASSERT_EQ(lo, want_lo) << isa_name(t->isa) << " tokens " << begin << ".." << end;
    }
  }
  std::vector<uint16_t> hi(plane), lo(plane), flat_hi(static_cast<size_t>(n * k)), flat_lo(flat_hi.size());
  ref::split_bf16_tiles(v.data(), k, 0, n, hi.data(), lo.data());
  ref::split_bf16(v.data(), n * k, flat_hi.data(), flat_lo.data());
  for (int64_t tok = 0; tok < n; ++tok) {
    for (int64_t i = 0; i < k; ++i) {
      ASSERT_EQ(hi[static_cast<size_t>(ref::bf16_tile_index(k, tok, i))], flat_hi[static_cast<size_t>(tok * k + i)]);
      ASSERT_EQ(lo[static_cast<size_t>(ref::bf16_tile_index(k, tok, i))], flat_lo[static_cast<size_t>(tok * k + i)]);
    }
  }
  if (amx_bf16_tables().empty()) GTEST_SKIP() << "this CPU/OS grants no AMX-BF16 tiles";
}

// One shape: packed F16 weights [n_rows, k] from row_begin, n_tokens f32 activations split into
// planes padded to 16 tokens; every output against ref::bf16_split_dot (the same products, summed
// in double: the tiles' f32 sums differ by ~k * 2^-24 of sum |w a|), and, for bf16x3, against the
// exact dot of the F16 weights with the f32 activations (the split's own error, <= 2^-15).
void check(const KernelTable& t, bool x3, int64_t k, int64_t n_rows, int64_t row_begin, int64_t n_tokens) {
  const auto wv = testing::random_floats(n_rows * k, static_cast<uint32_t>(3 * k + n_rows), 0.5f);
  const auto x = testing::random_floats(n_tokens * k, static_cast<uint32_t>(5 * k + n_tokens), 2.0f);
  std::vector<uint16_t> w16(wv.size());
  std::vector<float> wf(wv.size());
  for (size_t i = 0; i < wv.size(); ++i) w16[i] = f32_to_f16(wv[i]), wf[i] = f16_to_f32(w16[i]);
  const int64_t slot = static_cast<int64_t>(DType::kF16);
  std::vector<uint8_t> packed(static_cast<size_t>(t.packed_size[slot](n_rows, k)) + 64);
  t.pack_rows[slot](w16.data(), n_rows, k, packed.data());
  const int64_t padded = (n_tokens + 15) / 16 * 16;
  std::vector<uint16_t> hi(static_cast<size_t>(padded * k), 0), lo(static_cast<size_t>(padded * k), 0);
  t.split_bf16(x.data(), k, 0, n_tokens, hi.data(), x3 ? lo.data() : nullptr);
  // The reference reads the same bf16 values in token-row order.
  std::vector<uint16_t> row_hi(static_cast<size_t>(n_tokens * k)), row_lo(row_hi.size());
  for (int64_t tok = 0; tok < n_tokens; ++tok) {
    for (int64_t i = 0; i < k; ++i) {
      row_hi[static_cast<size_t>(tok * k + i)] = hi[static_cast<size_t>(ref::bf16_tile_index(k, tok, i))];
      row_lo[static_cast<size_t>(tok * k + i)] = lo[static_cast<size_t>(ref::bf16_tile_index(k, tok, i))];
    }
  }
  std::vector<float> out(static_cast<size_t>(n_rows * n_tokens), kUntouched);
  MulMatArgs args = testing::full_mul_mat_args(k, packed.data(), 2 * k, n_rows, nullptr, 0, n_tokens, out.data());
  args.row_begin = row_begin;
  args.act_bf16_hi = hi.data();
  args.act_bf16_lo = x3 ? lo.data() : nullptr;
  t.mul_mat_packed(DType::kF16, args);
  for (int64_t tok = 0; tok < n_tokens; ++tok) {
    for (int64_t row = 0; row < n_rows; ++row) {
      const float got = out[static_cast<size_t>(tok * n_rows + row)];
      if (row < row_begin) {
        ASSERT_EQ(got, kUntouched) << "wrote row " << row;
        continue;
      }
      const float* w_row = wf.data() + row * k;
      const float* x_row = x.data() + tok * k;
      double scale = 0.0, exact = 0.0;
      for (int64_t i = 0; i < k; ++i) {
        scale += std::fabs(static_cast<double>(w_row[i]) * x_row[i]);
        exact += static_cast<double>(w_row[i]) * x_row[i];
      }
      const double want = ref::bf16_split_dot(k, w_row, row_hi.data() + tok * k, x3 ? row_lo.data() + tok * k : nullptr);
      ASSERT_NEAR(got, want, 2e-6 * scale + 1e-6)
          << isa_name(t.isa) << (x3 ? " x3" : " x1") << " k=" << k << " rows=" << n_rows << " begin=" << row_begin
          << " tokens=" << n_tokens << " row=" << row << " token=" << tok;
      if (x3) ASSERT_NEAR(got, exact, std::ldexp(scale, -15) + 2e-6 * scale) << "row=" << row << " token=" << tok;
    }
  }
}

TEST(AmxBf16, PackedF16MatchesScalarReferenceOnOddShapes) {
  for (const KernelTable* t : amx_bf16_tables()) {
    for (const bool x3 : {true, false}) {
      // k: one tile, a k chunk plus a partial one; rows: one strip, an odd strip count with a
      // padded last strip, more than one 128-row block; tokens: one tile, remainders, an odd tile
      // count, more than one 384-token block.
      for (const int64_t k : {32, 288}) {
        for (const int64_t n_rows : {16, 37, 150}) {
          for (const int64_t n_tokens : {16, 17, 50}) {
            check(*t, x3, k, n_rows, 0, n_tokens);
            if (n_rows > 16) check(*t, x3, k, n_rows, 16, n_tokens);
          }
        }
        check(*t, x3, k, 37, 16, 400);
      }
    }
  }
  if (amx_bf16_tables().empty()) GTEST_SKIP() << "this CPU/OS grants no AMX-BF16 tiles";
}

// bf16x3 is close to the exact dot; bf16x1 (bf16-rounded weights and activations) is not: the
// error drops by more than 30x with the two correction products.
TEST(AmxBf16, ThreeProductsAreFarMoreAccurateThanOne) {
  for (const KernelTable* t : amx_bf16_tables()) {
    const int64_t k = 1536, n_rows = 32, n_tokens = 32;
    const auto wv = testing::random_floats(n_rows * k, 1, 0.5f);
    const auto x = testing::random_floats(n_tokens * k, 2, 2.0f);
    std::vector<uint16_t> w16(wv.size());
    for (size_t i = 0; i < wv.size(); ++i) w16[i] = f32_to_f16(wv[i]);
    std::vector<uint8_t> packed(static_cast<size_t>(t->packed_size[static_cast<size_t>(DType::kF16)](n_rows, k)));
    t->pack_rows[static_cast<size_t>(DType::kF16)](w16.data(), n_rows, k, packed.data());
    double err[2] = {0, 0};
    for (const bool x3 : {false, true}) {
      std::vector<uint16_t> hi(static_cast<size_t>(n_tokens * k)), lo(hi.size());
      t->split_bf16(x.data(), k, 0, n_tokens, hi.data(), lo.data());
      std::vector<float> out(static_cast<size_t>(n_rows * n_tokens));
      MulMatArgs args = testing::full_mul_mat_args(k, packed.data(), 2 * k, n_rows, nullptr, 0, n_tokens, out.data());
      args.act_bf16_hi = hi.data();
      args.act_bf16_lo = x3 ? lo.data() : nullptr;
      t->mul_mat_packed(DType::kF16, args);
      for (int64_t tok = 0; tok < n_tokens; ++tok) {
        for (int64_t r = 0; r < n_rows; ++r) {
          double exact = 0.0;
          for (int64_t i = 0; i < k; ++i) exact += static_cast<double>(f16_to_f32(w16[r * k + i])) * x[tok * k + i];
          err[x3] = std::max(err[x3], std::fabs(out[static_cast<size_t>(tok * n_rows + r)] - exact));
        }
      }
    }
    EXPECT_GT(err[0], 30 * err[1]) << isa_name(t->isa) << " x1 max error " << err[0] << ", x3 " << err[1];
  }
  if (amx_bf16_tables().empty()) GTEST_SKIP() << "this CPU/OS grants no AMX-BF16 tiles";
}

}  // namespace
}  // namespace frugal
