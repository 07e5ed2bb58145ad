// Which arithmetic ops::matmul gives packed F16 prefill (AMX-BF16 tiles or the FMA kernel), and
// that the tile path falls back cleanly: without the caller's tile_f16, with FRUGAL_AMX_F16=off
// (set_amx_f16_mode), below kAmxF16MinTokens, for k % 32 != 0, and where the CPU or the OS grants
// no AMX-BF16 (the table's split_bf16 is null: the same bits as the FMA kernel).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/fp16.h"
#include "kernels/kernel_table.h"
#include "ops/matmul.h"
#include "common/random_fill.h"

namespace frugal {
namespace {

struct F16Weights {
  std::vector<uint16_t> rows;
  TensorView view;
  PackedWeights packed;
};

void make_weights(F16Weights& w, int64_t n_out, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  w.rows.resize(static_cast<size_t>(n_out * k));
  for (auto& h : w.rows) h = f32_to_f16(dist(rng));
  w.view.dtype = DType::kF16;
  w.view.ne = {k, n_out, 1, 1};
  w.view.n_dims = 2;
  w.view.data = w.rows.data();
  pack_for_kernels(w.view, w.packed);
}

// Every token alone (the FMA kernel: one token never takes the tile path).
std::vector<float> per_token(const F16Weights& w, const std::vector<float>& x, int64_t n_tokens, ThreadPool& pool) {
  const int64_t k = w.view.row_elems(), n_out = w.view.num_rows();
  std::vector<float> y(static_cast<size_t>(n_tokens * n_out));
  MatmulScratch scratch;
  scratch.tile_f16 = true;
  for (int64_t t = 0; t < n_tokens; ++t) matmul(w.view, x.data() + t * k, 1, y.data() + t * n_out, pool, scratch);
  return y;
}

std::vector<float> batched(const F16Weights& w, const std::vector<float>& x, int64_t n_tokens, ThreadPool& pool,
                           bool tile_f16) {
  std::vector<float> y(static_cast<size_t>(n_tokens * w.view.num_rows()));
  MatmulScratch scratch;
  scratch.tile_f16 = tile_f16;
  matmul(w.view, x.data(), n_tokens, y.data(), pool, scratch);
  return y;
}

class ModeGuard {
 public:
  explicit ModeGuard(AmxF16Mode mode) { set_amx_f16_mode(mode); }
  ~ModeGuard() { set_amx_f16_mode(AmxF16Mode::kAuto); }
};

bool tiles_granted() { return kernels().split_bf16 != nullptr; }

TEST(MatmulAmxF16, CallersThatNeedBatchInvarianceKeepTheFmaKernel) {
  ModeGuard mode(AmxF16Mode::kAuto);
  ThreadPool pool(2);
  F16Weights w;
  make_weights(w, 80, 256, 1);
  const auto x = testing::gaussian(100 * 256, 2);
  EXPECT_EQ(batched(w, x, 100, pool, /*tile_f16=*/false), per_token(w, x, 100, pool));
}

TEST(MatmulAmxF16, TileF16CallersGetTheTilesWhereGrantedAndStayCloseToReference) {
  ModeGuard mode(AmxF16Mode::kAuto);
  ThreadPool pool(2);
  F16Weights w;
  make_weights(w, 80, 256, 3);
  const auto x = testing::gaussian(100 * 256, 4);
  const auto tiles = batched(w, x, 100, pool, /*tile_f16=*/true);
  const auto fma = per_token(w, x, 100, pool);
  if (!tiles_granted()) {
    EXPECT_EQ(tiles, fma) << "no AMX-BF16 here: the FMA kernel's bits";
    GTEST_SKIP() << "this CPU/OS grants no AMX-BF16 tiles (the fallback was checked)";
  }
  std::vector<float> ref(tiles.size());
  MatmulScratch scratch;
  matmul(w.view, x.data(), 100, ref.data(), pool, scratch, MatmulPath::kReference);
  int differs = 0;
  double max_err = 0.0, max_ref = 0.0;
  for (size_t i = 0; i < tiles.size(); ++i) {
    differs += tiles[i] != fma[i];
    max_err = std::max(max_err, std::fabs(static_cast<double>(tiles[i]) - ref[i]));
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[i])));
  }
  EXPECT_GT(differs, 0) << "the tile path did not run (its sums are ordered differently)";
  EXPECT_LE(max_err, 1e-4 * max_ref) << "bf16x3 is within F16-path accuracy of the f32 reference";
}

TEST(MatmulAmxF16, ForcedOffSmallBatchesAndOddKFallBackToTheFmaKernel) {
  ThreadPool pool(2);
  F16Weights w;
  make_weights(w, 48, 256, 5);
  const auto x = testing::gaussian(100 * 256, 6);
  {
    ModeGuard mode(AmxF16Mode::kOff);  // FRUGAL_AMX_F16=off
    EXPECT_EQ(batched(w, x, 100, pool, true), per_token(w, x, 100, pool));
  }
  ModeGuard mode(AmxF16Mode::kAuto);
  EXPECT_EQ(batched(w, x, kAmxF16MinTokens - 1, pool, true), per_token(w, x, kAmxF16MinTokens - 1, pool));
  F16Weights odd;
  make_weights(odd, 48, 48, 7);  // k % 32 != 0
  const auto x48 = testing::gaussian(100 * 48, 8);
  EXPECT_EQ(batched(odd, x48, 100, pool, true), per_token(odd, x48, 100, pool));
}

}  // namespace
}  // namespace frugal
