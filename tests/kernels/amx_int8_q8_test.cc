// Tile-Q8 (kernels/tile_q8_layout.h): the load-time re-quantization of Q8_0 rows and the activation
// quantizer on every machine, and on every table that grants AMX-INT8 (tile_q8_mul_mat set) the
// vector quantizer and the AMX kernel against the scalar reference (ref/ref_tile_q8.h), bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "core/fp16.h"
#include "kernel_test_util.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "kernels/ref/ref_tile_q8.h"
#include "kernels/tile_q8_layout.h"

namespace frugal {
namespace {

constexpr float kUntouched = -12345.0f;

std::vector<const KernelTable*> tile_q8_tables() {
  std::vector<const KernelTable*> tables;
  for (Isa isa : available_isas()) {
    if (kernels_for(isa)->tile_q8_mul_mat != nullptr) tables.push_back(kernels_for(isa));
  }
  return tables;
}

// Q8_0 rows (ref quantizer) of random values; `values` gets their exact dequantized f32 values.
std::vector<uint8_t> q8_0_rows(int64_t n_rows, int64_t k, uint32_t seed, std::vector<float>& values) {
  const auto v = testing::random_floats(n_rows * k, seed, 0.5f);
  const KernelTable& ref = *kernels_for(Isa::kRef);
  const int64_t row_bytes = dtype_row_bytes(DType::kQ8_0, k);
  std::vector<uint8_t> rows(static_cast<size_t>(n_rows * row_bytes));
  values.resize(v.size());
  for (int64_t r = 0; r < n_rows; ++r) {
    ref.quantize_row[testing::slot(DType::kQ8_0)](v.data() + r * k, rows.data() + r * row_bytes, k);
    ref.dequantize_row[testing::slot(DType::kQ8_0)](rows.data() + r * row_bytes, values.data() + r * k, k);
  }
  return rows;
}

TEST(TileQ8, GroupsFitThePaddedRow) {
  EXPECT_EQ(tile_q8::padded_k(96), 128);
  EXPECT_EQ(tile_q8::fit_group(1536, kAmxQ8PerRow), 1536);
  EXPECT_EQ(tile_q8::fit_group(1536, 256), 256);
  EXPECT_EQ(tile_q8::fit_group(8960, 256), 256);   // 35 groups
  EXPECT_EQ(tile_q8::fit_group(8960, 512), 448);   // the largest multiple of 64 dividing 8960 below 512
  EXPECT_EQ(tile_q8::fit_group(96, 64), 64);
  EXPECT_EQ(tile_q8::fit_group(96, 4096), 128);
  for (const int64_t k : {64, 96, 1536, 8960}) {
    for (const int64_t want : {0, 64, 128, 256, 512, 100000}) EXPECT_TRUE(tile_q8::valid_group(k, tile_q8::fit_group(k, want)));
  }
}

// Every re-quantized weight is within half its group's step of the Q8_0 value; the group holding
// the row's largest |w| keeps it exactly; padding rows and padding k are zero.
TEST(TileQ8, PackRequantizesEachRowGroupWithinHalfAStep) {
  const int64_t n_rows = 21, k = 96;  // 2 strips (11 padding rows), k padded to 128
  for (const int64_t group : {64, 128}) {
    std::vector<float> values;
    const auto rows = q8_0_rows(n_rows, k, 3, values);
    std::vector<uint8_t> packed(static_cast<size_t>(tile_q8::packed_size(n_rows, k, group)), 0xee);
    tile_q8::pack_rows(rows.data(), n_rows, k, group, packed.data());
    const int64_t sbytes = tile_q8::strip_bytes(k, group), kp = tile_q8::padded_k(k);
    for (int64_t r = 0; r < 32; ++r) {
      const uint8_t* strip = packed.data() + r / 16 * sbytes;
      for (int64_t g = 0; g < kp / group; ++g) {
        float sw = 0.0f;
        std::memcpy(&sw, strip + kp / 64 * 1024 + (g * 16 + r % 16) * 4, 4);
        float amax = 0.0f;
        for (int64_t i = g * group; i < std::min((g + 1) * group, k) && r < n_rows; ++i) amax = std::max(amax, std::fabs(values[r * k + i]));
        EXPECT_EQ(sw, amax / 127.0f) << "row " << r << " group " << g;
        for (int64_t i = g * group; i < (g + 1) * group; ++i) {
          const auto q = static_cast<int8_t>(strip[tile_q8::weight_offset(i, r % 16)]);
          if (r >= n_rows || i >= k) {
            ASSERT_EQ(q, 0) << "padding row " << r << " element " << i;
            continue;
          }
          const float w = values[r * k + i];
          ASSERT_LE(std::fabs(sw * q - w), 0.5f * sw * (1.0f + 1e-6f)) << "row " << r << " element " << i;
          if (std::fabs(w) == amax) {
            ASSERT_EQ(std::abs(q), 127);
          }
        }
      }
    }
  }
}

TEST(TileQ8, TablesSetTheTileKernelOnlyWhereTheCpuGrantsAmxInt8) {
  EXPECT_EQ(!tile_q8_tables().empty(), cpu_features().supports_amx());
  EXPECT_EQ(kernels_for(Isa::kRef)->tile_q8_mul_mat, nullptr);
}

TEST(TileQ8, VectorQuantizerEqualsScalarReference) {
  const int64_t n = 40;
  for (const int64_t k : {64, 96, 1536}) {
    for (const int64_t group : {tile_q8::fit_group(k, 64), tile_q8::padded_k(k)}) {
      auto x = testing::random_floats(n * k, static_cast<uint32_t>(k), 3.0f);
      x[0] = 0.0f, x[1] = -0.0f, x[2] = 1e-30f;
      std::fill(x.begin() + 5 * k, x.begin() + 6 * k, 0.0f);  // an all-zero token: scale 0, levels 0
      const int64_t padded = 48, kp = tile_q8::padded_k(k), groups = kp / group;
      for (const KernelTable* t : tile_q8_tables()) {
        for (const auto& [begin, end] : std::vector<std::pair<int64_t, int64_t>>{{0, n}, {5, 21}, {39, 40}}) {
          std::vector<int8_t> q(static_cast<size_t>(padded * kp), 99), want_q(q.size(), 99);
          std::vector<float> s(static_cast<size_t>(padded * groups), kUntouched), want_s(s.size(), kUntouched);
          t->tile_q8_quantize(x.data(), k, group, begin, end, q.data(), s.data(), padded);
          tile_q8::quantize_acts(x.data(), k, group, begin, end, want_q.data(), want_s.data(), padded);
          ASSERT_EQ(q, want_q) << isa_name(t->isa) << " k=" << k << " group=" << group << " tokens " << begin << ".." << end;
          ASSERT_EQ(s, want_s) << isa_name(t->isa) << " k=" << k << " group=" << group;
        }
      }
    }
  }
  if (tile_q8_tables().empty()) GTEST_SKIP() << "this CPU/OS grants no AMX-INT8 tiles (the scalar quantizer is tested above)";
}

// One shape on one table: the AMX kernel's outputs equal ref::tile_q8_mul_mat's bit for bit, and
// rows before row_begin are not written.
void check(const KernelTable& t, int64_t k, int64_t group, int64_t n_rows, int64_t row_begin, int64_t n_tokens) {
  std::vector<float> values;
  const auto rows = q8_0_rows(n_rows, k, static_cast<uint32_t>(7 * k + n_rows), values);
  std::vector<uint8_t> packed(static_cast<size_t>(tile_q8::packed_size(n_rows, k, group)));
  tile_q8::pack_rows(rows.data(), n_rows, k, group, packed.data());
  const auto x = testing::random_floats(n_tokens * k, static_cast<uint32_t>(k + n_tokens), 2.0f);
  const int64_t padded = tile_q8::padded_tokens(n_tokens), kp = tile_q8::padded_k(k);
  std::vector<int8_t> q(static_cast<size_t>(padded * kp), 0);
  std::vector<float> scales(static_cast<size_t>(padded * (kp / group)), 0.0f);
  tile_q8::quantize_acts(x.data(), k, group, 0, n_tokens, q.data(), scales.data(), padded);
  std::vector<float> out(static_cast<size_t>(n_rows * n_tokens), kUntouched), want(out.size(), kUntouched);
  MulMatArgs args = testing::full_mul_mat_args(k, packed.data(), 0, n_rows, nullptr, 0, n_tokens, out.data());
  args.row_begin = row_begin;
  args.tile_group = group;
  args.act_i8 = q.data();
  args.act_i8_scales = scales.data();
  t.tile_q8_mul_mat(args);
  ref::tile_q8_mul_mat(k, group, packed.data(), row_begin, n_rows, q.data(), scales.data(), padded, n_tokens, want.data(),
                       n_rows);
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i], want[i]) << isa_name(t.isa) << " k=" << k << " group=" << group << " rows=" << n_rows
                               << " begin=" << row_begin << " tokens=" << n_tokens << " token=" << i / n_rows
                               << " row=" << i % n_rows;
  }
}

TEST(TileQ8, AmxKernelEqualsScalarReferenceBitForBit) {
  for (const KernelTable* t : tile_q8_tables()) {
    // k: one tile, a padded one, more than one 512-element chunk with a partial last chunk; groups:
    // 64, and one per row; rows: one strip, a padded odd strip count, more than one 128-row block;
    // tokens: one, a partial tile, an odd tile count, more than one 384-token block.
    for (const int64_t k : {64, 96, 1088}) {
      for (const int64_t group : {int64_t{64}, tile_q8::padded_k(k)}) {
        for (const int64_t n_rows : {16, 37, 150}) {
          for (const int64_t n_tokens : {1, 17, 50}) {
            check(*t, k, group, n_rows, 0, n_tokens);
            if (n_rows > 16) check(*t, k, group, n_rows, 16, n_tokens);
          }
        }
      }
      check(*t, k, tile_q8::padded_k(k), 37, 16, 400);
    }
    check(*t, 1536, 256, 48, 0, 64);
  }
  if (tile_q8_tables().empty()) GTEST_SKIP() << "this CPU/OS grants no AMX-INT8 tiles";
}

// The error of the whole tile-Q8 product (weights re-quantized per row, activations per token)
// against the exact dot of the Q8_0 weights with the f32 activations, on DiT-like rows (k = 1536):
// bounded, and finer with 64-element groups than with one scale per row.
TEST(TileQ8, ErrorAgainstTheExactDotShrinksWithSmallerGroups) {
  const int64_t k = 1536, n_rows = 32, n_tokens = 16;
  std::vector<float> values;
  const auto rows = q8_0_rows(n_rows, k, 11, values);
  const auto x = testing::random_floats(n_tokens * k, 12, 1.0f);
  double err[2] = {0, 0};
  for (const int64_t group : {int64_t{64}, k}) {
    std::vector<uint8_t> packed(static_cast<size_t>(tile_q8::packed_size(n_rows, k, group)));
    tile_q8::pack_rows(rows.data(), n_rows, k, group, packed.data());
    std::vector<int8_t> q(static_cast<size_t>(n_tokens * k));
    std::vector<float> scales(static_cast<size_t>(n_tokens * (k / group)));
    tile_q8::quantize_acts(x.data(), k, group, 0, n_tokens, q.data(), scales.data(), n_tokens);
    std::vector<float> out(static_cast<size_t>(n_rows * n_tokens));
    ref::tile_q8_mul_mat(k, group, packed.data(), 0, n_rows, q.data(), scales.data(), n_tokens, n_tokens, out.data(), n_rows);
    for (int64_t tok = 0; tok < n_tokens; ++tok) {
      for (int64_t r = 0; r < n_rows; ++r) {
        double exact = 0.0, scale = 0.0;
        for (int64_t i = 0; i < k; ++i) {
          exact += static_cast<double>(values[r * k + i]) * x[tok * k + i];
          scale += std::fabs(static_cast<double>(values[r * k + i]) * x[tok * k + i]);
        }
        const double e = std::fabs(out[static_cast<size_t>(tok * n_rows + r)] - exact) / scale;
        err[group == k] = std::max(err[group == k], e);
      }
    }
  }
  EXPECT_LT(err[1], 0.02) << "per row: worst error relative to sum |w a|";
  EXPECT_LT(err[0], err[1]) << "64-element groups: " << err[0] << ", per row: " << err[1];
}

}  // namespace
}  // namespace frugal
