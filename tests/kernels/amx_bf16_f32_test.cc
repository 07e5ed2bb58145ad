// The bf16-split tile GEMM of f32 operands (KernelTable::bf16_tile_gemm, kernels/bf16_tile_gemm.h;
// the AMX-BF16 body is kernels/x86_avx512/amx_bf16_f32.cc) on every table that grants it: its row
// split against the scalar packer, and its products against the same products summed in double,
// for shapes that are not multiples of the tiles (k, rows, columns), several row blocks and k chunks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/bf16_tile_gemm.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"

namespace frugal {
namespace {

constexpr float kUntouched = -12345.0f;

std::vector<const KernelTable*> tile_tables() {
  std::vector<const KernelTable*> tables;
  for (Isa isa : available_isas()) {
    if (kernels_for(isa)->bf16_tile_gemm != nullptr) tables.push_back(kernels_for(isa));
  }
  return tables;
}

TEST(Bf16TileGemm, TablesSetItOnlyWhereTheCpuGrantsAmxBf16) {
  EXPECT_EQ(!tile_tables().empty(), cpu_features().supports_amx_bf16());
  EXPECT_EQ(kernels_for(Isa::kRef)->bf16_tile_gemm, nullptr);
}

TEST(Bf16TileGemm, RowSplitEqualsScalarPacker) {
  for (const KernelTable* t : tile_tables()) {
    for (int64_t k : {1, 31, 32, 81, 100, 432}) {
      const int64_t k_pad = bf16_tile_k_pad(k);
      auto x = testing::random_floats(k, static_cast<uint32_t>(k), 50.0f);
      x[0] = -0.0f;
      const size_t plane = static_cast<size_t>(32 * k_pad);  // two row tiles
      for (int64_t r : {0, 5, 17, 31}) {
        std::vector<uint16_t> hi(plane, 0xabcd), lo(plane, 0xabcd), want_hi(plane, 0xabcd), want_lo(plane, 0xabcd);
        t->bf16_tile_gemm->split_row(x.data(), k, k_pad, r, hi.data(), lo.data());
        split_bf16_tiles_row_ref(x.data(), k, k_pad, r, want_hi.data(), want_lo.data());
        ASSERT_EQ(hi, want_hi) << isa_name(t->isa) << " k " << k << " row " << r << " (and nothing else written)";
        ASSERT_EQ(lo, want_lo) << isa_name(t->isa) << " k " << k << " row " << r;
        std::vector<uint16_t> hi_only(plane, 0xabcd);
        t->bf16_tile_gemm->split_row(x.data(), k, k_pad, r, hi_only.data(), nullptr);
        ASSERT_EQ(hi_only, want_hi) << "hi plane alone";
      }
    }
  }
}

TEST(Bf16TileGemm, StripSplitEqualsScalarPacker) {
  for (const KernelTable* t : tile_tables()) {
    for (int64_t k : {1, 31, 32, 81, 100, 432}) {
      const int64_t k_pad = bf16_tile_k_pad(k);
      auto x = testing::random_floats(k * 16, static_cast<uint32_t>(k) + 5, 50.0f);
      x[1] = -0.0f;
      const size_t plane = static_cast<size_t>(16 * k_pad);
      std::vector<uint16_t> hi(plane, 0xabcd), lo(plane, 0xabcd), want_hi(plane, 0xabcd), want_lo(plane, 0xabcd);
      t->bf16_tile_gemm->split_strip(x.data(), k, k_pad, hi.data(), lo.data());
      split_bf16_strip_ref(x.data(), k, k_pad, want_hi.data(), want_lo.data());
      ASSERT_EQ(hi, want_hi) << isa_name(t->isa) << " k " << k;
      ASSERT_EQ(lo, want_lo) << isa_name(t->isa) << " k " << k;
      // ... which is pack_bf16_tiles_b's layout of the same 16 columns.
      std::vector<float> cols(static_cast<size_t>(16 * k));
      for (int64_t c = 0; c < 16; ++c) {
        for (int64_t i = 0; i < k; ++i) cols[static_cast<size_t>(c * k + i)] = x[static_cast<size_t>(i * 16 + c)];
      }
      std::vector<uint16_t> packed(2 * plane);
      pack_bf16_tiles_b(cols.data(), 16, k, 2, packed.data());
      ASSERT_TRUE(std::equal(hi.begin(), hi.end(), packed.begin())) << "k " << k;
      ASSERT_TRUE(std::equal(lo.begin(), lo.end(), packed.begin() + static_cast<int64_t>(plane))) << "k " << k;
    }
  }
}

// The products of one output in double from the same splits: what the tiles compute, summed exactly.
double split_products(const float* a, const float* w, int64_t k, Bf16Products products, double* abs_sum) {
  double acc = 0.0;
  *abs_sum = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    const float ah = ref::bf16_bits_to_f32(ref::bf16_rne_bits(a[i]));
    const float al = ref::bf16_bits_to_f32(ref::bf16_rne_bits(a[i] - ah));
    const float wh = ref::bf16_bits_to_f32(ref::bf16_rne_bits(w[i]));
    const float wl = ref::bf16_bits_to_f32(ref::bf16_rne_bits(w[i] - wh));
    double terms[3] = {static_cast<double>(ah) * wh, 0.0, 0.0};
    if (products != Bf16Products::kX1) terms[1] = static_cast<double>(ah) * wl;
    if (products == Bf16Products::kX3) terms[2] = static_cast<double>(al) * wh;
    for (double term : terms) {
      acc += term;
      *abs_sum += std::fabs(term);
    }
  }
  return acc;
}

struct GemmShape {
  int64_t rows, cols, k;
};

TEST(Bf16TileGemm, MatchesTheSplitProductsInDouble) {
  // Odd rows / columns / k; 300 rows = 19 row tiles (two row blocks of 16), k 600 = 3 k chunks.
  const GemmShape shapes[] = {{1, 1, 5}, {17, 3, 81}, {40, 20, 100}, {300, 35, 600}, {33, 48, 64}};
  for (const KernelTable* t : tile_tables()) {
    uint32_t seed = 40;
    for (const GemmShape& s : shapes) {
      const int64_t k_pad = bf16_tile_k_pad(s.k);
      const auto a = testing::random_floats(s.rows * s.k, ++seed);
      const auto w = testing::random_floats(s.cols * s.k, ++seed, 0.1f);
      const auto bias = testing::random_floats(s.rows, ++seed);
      const int64_t row_tiles = bf16_tile_round16(s.rows) / 16;
      std::vector<uint16_t> a_hi(static_cast<size_t>(row_tiles * 16 * k_pad)), a_lo(a_hi.size());
      for (int64_t r = 0; r < row_tiles * 16; ++r) {
        std::vector<float> row(static_cast<size_t>(s.k), 0.0f);
        if (r < s.rows) std::copy_n(a.data() + r * s.k, s.k, row.data());
        t->bf16_tile_gemm->split_row(row.data(), s.k, k_pad, r, a_hi.data(), a_lo.data());
      }
      for (Bf16Products products : {Bf16Products::kX1, Bf16Products::kX2, Bf16Products::kX3}) {
        for (int planes : {1, 2}) {
          if (products != Bf16Products::kX1 && planes == 1) continue;  // x2 / x3 need B's lo plane
          std::vector<uint16_t> b(static_cast<size_t>(bf16_tile_b_elems(s.cols, k_pad, planes)));
          pack_bf16_tiles_b(w.data(), s.cols, s.k, planes, b.data());
          const int64_t stride = s.cols + 3;  // out[r * stride + c]; the 3 extra per row stay untouched
          std::vector<float> out(static_cast<size_t>(s.rows * stride), kUntouched);
          Bf16TileGemmArgs args;
          args.k_pad = k_pad;
          args.a_hi = a_hi.data();
          args.a_lo = a_lo.data();
          args.row_tile_begin = 0;
          args.row_tile_end = row_tiles;
          args.n_rows = s.rows;
          args.b = b.data();
          args.b_planes = planes;
          args.n_cols = s.cols;
          args.products = products;
          args.out = out.data();
          args.out_row_stride = stride;
          args.bias = bias.data();
          // Two calls over disjoint column-strip ranges, as the threads of a convolution make them.
          const int64_t col_strips = bf16_tile_round16(s.cols) / 16;
          const int64_t split = col_strips / 2;
          args.col_strip_begin = 0;
          args.col_strip_end = split;
          if (split > 0) t->bf16_tile_gemm->gemm(args);
          args.col_strip_begin = split;
          args.col_strip_end = col_strips;
          t->bf16_tile_gemm->gemm(args);
          for (int64_t r = 0; r < s.rows; ++r) {
            for (int64_t c = 0; c < stride; ++c) {
              const float got = out[static_cast<size_t>(r * stride + c)];
              if (c >= s.cols) {
                ASSERT_EQ(got, kUntouched) << "padding column " << c << " stored";
                continue;
              }
              double abs_sum = 0.0;
              const double want = bias[static_cast<size_t>(r)] +
                                  split_products(a.data() + r * s.k, w.data() + c * s.k, s.k, products, &abs_sum);
              // f32 accumulation of 3 k / 2 pair sums at most, each rounding <= 2^-24 of the running |sum|.
              const double tol = (1.5 * static_cast<double>(k_pad) * (products == Bf16Products::kX3 ? 3 : 2) + 4) *
                                 std::ldexp(abs_sum + std::fabs(bias[static_cast<size_t>(r)]), -24);
              ASSERT_NEAR(got, want, tol) << isa_name(t->isa) << " " << s.rows << "x" << s.cols << "x" << s.k
                                          << " products " << static_cast<int>(products) << " planes " << planes
                                          << " at (" << r << ", " << c << ")";
            }
          }
        }
      }
    }
  }
}

// bf16x3 is the f32 dot to ~2^-16 of sum |a w|; bf16x1 / bf16x2 are orders coarser (the modes differ).
TEST(Bf16TileGemm, X3IsMuchCloserToTheF32DotThanX1) {
  for (const KernelTable* t : tile_tables()) {
    const int64_t rows = 32, cols = 32, k = 1536, k_pad = k;
    const auto a = testing::random_floats(rows * k, 3);
    const auto w = testing::random_floats(cols * k, 4, 0.05f);
    std::vector<uint16_t> a_hi(static_cast<size_t>(rows * k)), a_lo(a_hi.size());
    for (int64_t r = 0; r < rows; ++r) t->bf16_tile_gemm->split_row(a.data() + r * k, k, k_pad, r, a_hi.data(), a_lo.data());
    std::vector<uint16_t> b(static_cast<size_t>(bf16_tile_b_elems(cols, k_pad, 2)));
    pack_bf16_tiles_b(w.data(), cols, k, 2, b.data());
    double worst[4] = {0, 0, 0, 0};
    for (Bf16Products products : {Bf16Products::kX1, Bf16Products::kX2, Bf16Products::kX3}) {
      std::vector<float> out(static_cast<size_t>(rows * cols));
      Bf16TileGemmArgs args;
      args.k_pad = k_pad;
      args.a_hi = a_hi.data();
      args.a_lo = a_lo.data();
      args.row_tile_end = rows / 16;
      args.n_rows = rows;
      args.b = b.data();
      args.b_planes = 2;
      args.col_strip_end = cols / 16;
      args.n_cols = cols;
      args.products = products;
      args.out = out.data();
      args.out_row_stride = cols;
      t->bf16_tile_gemm->gemm(args);
      for (int64_t c = 0; c < cols; ++c) {
        for (int64_t r = 0; r < rows; ++r) {
          double exact = 0.0, abs_sum = 0.0;
          for (int64_t i = 0; i < k; ++i) {
            exact += static_cast<double>(a[static_cast<size_t>(r * k + i)]) * w[static_cast<size_t>(c * k + i)];
            abs_sum += std::fabs(static_cast<double>(a[static_cast<size_t>(r * k + i)]) * w[static_cast<size_t>(c * k + i)]);
          }
          const double err = std::fabs(out[static_cast<size_t>(r * cols + c)] - exact) / abs_sum;
          worst[static_cast<int>(products)] = std::max(worst[static_cast<int>(products)], err);
        }
      }
    }
    std::printf("%s k %lld: worst |err| / sum|a w|: x1 %.3g  x2 %.3g  x3 %.3g\n", std::string(isa_name(t->isa)).c_str(),
                static_cast<long long>(k), worst[1], worst[2], worst[3]);
    EXPECT_LE(worst[3], std::ldexp(1.0, -15));
    EXPECT_GT(worst[1], 30 * worst[3]);
    EXPECT_GT(worst[2], 10 * worst[3]);
  }
}

}  // namespace
}  // namespace frugal
