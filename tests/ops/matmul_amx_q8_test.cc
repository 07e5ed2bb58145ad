// Which layout and arithmetic ops::matmul gives Q8_0 weights: the tile-Q8 layout (AMX-INT8) only for
// callers that ask at load (pack_for_kernels(..., tiles = true): the video DiT) where the table
// grants AMX-INT8 and FRUGAL_AMX_Q8 is not off; otherwise the packed VNNI kernel, bit for bit. The
// tile path's outputs equal the scalar reference, are batch-invariant, and stay close to F32.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/ref/ref_tile_q8.h"
#include "kernels/tile_q8_layout.h"
#include "ops/matmul.h"
#include "common/random_fill.h"

namespace frugal {
namespace {

struct Q8Weights {
  std::vector<uint8_t> rows;
  TensorView view;
  PackedWeights packed;
  int64_t packed_bytes = 0;
};

void make_weights(Q8Weights& w, int64_t n_out, int64_t k, uint32_t seed, bool tiles) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  std::vector<float> v(static_cast<size_t>(n_out * k));
  for (auto& x : v) x = dist(rng);
  const int64_t row_bytes = dtype_row_bytes(DType::kQ8_0, k);
  w.rows.resize(static_cast<size_t>(n_out * row_bytes));
  for (int64_t r = 0; r < n_out; ++r) {
    kernels_for(Isa::kRef)->quantize_row[static_cast<size_t>(DType::kQ8_0)](v.data() + r * k, w.rows.data() + r * row_bytes, k);
  }
  w.view.dtype = DType::kQ8_0;
  w.view.ne = {k, n_out, 1, 1};
  w.view.n_dims = 2;
  w.view.data = w.rows.data();
  w.packed_bytes = pack_for_kernels(w.view, w.packed, tiles);
}

std::vector<float> run(const Q8Weights& w, const std::vector<float>& x, int64_t n_tokens, ThreadPool& pool) {
  std::vector<float> y(static_cast<size_t>(n_tokens * w.view.num_rows()));
  MatmulScratch scratch;
  matmul(w.view, x.data(), n_tokens, y.data(), pool, scratch);
  return y;
}

std::vector<float> per_token(const Q8Weights& w, const std::vector<float>& x, int64_t n_tokens, ThreadPool& pool) {
  const int64_t k = w.view.row_elems(), n_out = w.view.num_rows();
  std::vector<float> y(static_cast<size_t>(n_tokens * n_out));
  MatmulScratch scratch;
  for (int64_t t = 0; t < n_tokens; ++t) matmul(w.view, x.data() + t * k, 1, y.data() + t * n_out, pool, scratch);
  return y;
}

class GroupGuard {
 public:
  explicit GroupGuard(int64_t group) { set_amx_q8_group(group); }
  ~GroupGuard() { set_amx_q8_group(kAmxQ8PerRow); }
};

bool tiles_granted() { return kernels().tile_q8_mul_mat != nullptr; }

TEST(MatmulAmxQ8, CallersThatDoNotAskKeepTheVnniLayout) {
  GroupGuard guard(kAmxQ8PerRow);
  Q8Weights w;
  make_weights(w, 48, 256, 1, /*tiles=*/false);
  EXPECT_EQ(w.view.packed_tile_group, 0);
}

TEST(MatmulAmxQ8, TileCallersGetTheTileLayoutWhereGrantedBitEqualToTheReference) {
  GroupGuard guard(kAmxQ8PerRow);
  ThreadPool pool(2);
  const int64_t n_out = 80, k = 320, n_tokens = 100;
  Q8Weights plain, tiled;
  make_weights(plain, n_out, k, 3, false);
  make_weights(tiled, n_out, k, 3, true);
  const auto x = testing::gaussian(n_tokens * k, 4);
  const auto y = run(tiled, x, n_tokens, pool);
  if (!tiles_granted()) {
    EXPECT_EQ(tiled.view.packed_tile_group, 0);
    EXPECT_EQ(y, run(plain, x, n_tokens, pool)) << "no AMX-INT8 here: the VNNI kernel's bits";
    GTEST_SKIP() << "this CPU/OS grants no AMX-INT8 tiles (the fallback was checked)";
  }
  ASSERT_EQ(tiled.view.packed_tile_group, tile_q8::padded_k(k)) << "one scale per row by default";
  EXPECT_EQ(tiled.packed_bytes, tile_q8::packed_size(n_out, k, tile_q8::padded_k(k)));
  // The same bytes the scalar reference computes from the same packed weights and quantized rows.
  const int64_t group = tiled.view.packed_tile_group, padded = tile_q8::padded_tokens(n_tokens);
  std::vector<int8_t> q(static_cast<size_t>(padded * tile_q8::padded_k(k)), 0);
  std::vector<float> scales(static_cast<size_t>(padded), 0.0f), want(y.size());
  tile_q8::quantize_acts(x.data(), k, group, 0, n_tokens, q.data(), scales.data(), padded);
  ref::tile_q8_mul_mat(k, group, tiled.view.packed, 0, n_out, q.data(), scales.data(), padded, n_tokens, want.data(), n_out);
  EXPECT_EQ(y, want);
  EXPECT_EQ(y, per_token(tiled, x, n_tokens, pool)) << "a token's output does not depend on its batch";
  // Close to the f32 product of the Q8_0 weights (per-row int8: ~1 % of the output scale at most).
  std::vector<float> ref(y.size());
  MatmulScratch scratch;
  matmul(plain.view, x.data(), n_tokens, ref.data(), pool, scratch, MatmulPath::kReference);  // the stored rows
  double max_err = 0.0, max_ref = 0.0;
  for (size_t i = 0; i < y.size(); ++i) {
    max_err = std::max(max_err, std::fabs(static_cast<double>(y[i]) - ref[i]));
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[i])));
  }
  EXPECT_LE(max_err, 0.02 * max_ref);
}

TEST(MatmulAmxQ8, ForcedOffKeepsTheVnniKernelAndGroupsAreHonoured) {
  ThreadPool pool(2);
  const int64_t n_out = 48, k = 512, n_tokens = 70;
  const auto x = testing::gaussian(n_tokens * k, 6);
  Q8Weights plain;
  make_weights(plain, n_out, k, 5, false);
  {
    GroupGuard guard(kAmxQ8Off);  // FRUGAL_AMX_Q8=off
    Q8Weights off;
    make_weights(off, n_out, k, 5, true);
    EXPECT_EQ(off.view.packed_tile_group, 0);
    EXPECT_EQ(run(off, x, n_tokens, pool), run(plain, x, n_tokens, pool));
  }
  GroupGuard guard(128);  // FRUGAL_AMX_Q8=128
  Q8Weights grouped;
  make_weights(grouped, n_out, k, 5, true);
  if (!tiles_granted()) GTEST_SKIP() << "this CPU/OS grants no AMX-INT8 tiles (the forced-off path was checked)";
  EXPECT_EQ(grouped.view.packed_tile_group, 128);
  EXPECT_EQ(run(grouped, x, n_tokens, pool), per_token(grouped, x, n_tokens, pool));
}

// matmul_multi quantizes the activations once for all tile-Q8 targets; each output equals its own matmul.
TEST(MatmulAmxQ8, MultiTargetsEqualSeparateMatmuls) {
  GroupGuard guard(kAmxQ8PerRow);
  ThreadPool pool(2);
  const int64_t k = 192, n_tokens = 40;
  Q8Weights a, b;
  make_weights(a, 64, k, 7, true);
  make_weights(b, 32, k, 8, true);
  const auto x = testing::gaussian(n_tokens * k, 9);
  std::vector<float> ya(static_cast<size_t>(n_tokens * 64)), yb(static_cast<size_t>(n_tokens * 32));
  const MatmulTarget targets[] = {{&a.view, ya.data()}, {&b.view, yb.data()}};
  MatmulScratch scratch;
  matmul_multi(targets, 2, x.data(), n_tokens, pool, scratch);
  EXPECT_EQ(ya, run(a, x, n_tokens, pool));
  EXPECT_EQ(yb, run(b, x, n_tokens, pool));
}

}  // namespace
}  // namespace frugal
