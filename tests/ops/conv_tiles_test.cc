// conv3d on the bf16 tile path (ops/conv.h ConvTileMode, kernels/bf16_tile_gemm.h) against a direct
// double-precision convolution, for shapes off the tiles (c_in, c_out not multiples of 16 / 32, k
// not a multiple of 32), strides, one-sided padding, nearest upsampling, causal (null) frames,
// output rows of whole 16-pixel strips (the gather's fast path) and ragged ones, and several bands;
// and the fallbacks: mode off (or a weight packed without the lo plane under x3) gives the FMA
// path's output bit for bit. Runs where the kernel table grants AMX-BF16 tiles; on other CPUs only
// the fallback tests apply (pack_conv_tiles returns an empty weight there).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>

#include "kernels/kernel_table.h"
#include "ops/conv.h"
#include "common/random_fill.h"
#include "conv_reference.h"

namespace frugal {
namespace {

Conv3dParams geometry(int64_t c_in, int64_t c_out, int64_t kt, int64_t ks, int64_t stride, int64_t pad,
                      int64_t upsample = 1, bool one_sided = false) {
  Conv3dParams p;
  p.c_in = c_in;
  p.c_out = c_out;
  p.kernel_t = kt;
  p.kernel_h = p.kernel_w = ks;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = one_sided ? 0 : pad;
  p.pad_bottom = p.pad_right = pad;
  p.upsample = upsample;
  return p;
}

struct TileCase {
  const char* name;
  Conv3dParams p;
  int64_t frames, height, width, pad_front;
};

// Restores the process-wide tile mode when a test ends.
class ConvTiles : public ::testing::Test {
 protected:
  void TearDown() override { set_conv_tile_mode(saved_); }
  ConvTileMode saved_ = conv_tile_mode();
};

struct ConvRun {
  std::vector<float> x, w, bias;
  std::vector<ConvFrame> frames;
  std::vector<float> ref;
};

ConvRun make_run(const TileCase& c, uint32_t seed) {
  ConvRun run;
  const Conv3dParams& p = c.p;
  run.x = testing::gaussian(p.c_in * c.frames * c.height * c.width, seed);
  run.w = testing::gaussian(p.c_out * p.k(), seed + 1);
  for (float& v : run.w) v *= 0.1f;
  run.bias = testing::gaussian(p.c_out, seed + 2);
  run.frames.resize(static_cast<size_t>(c.pad_front));  // null = zero (causal front padding)
  const int64_t plane = c.height * c.width;
  for (int64_t t = 0; t < c.frames; ++t) run.frames.push_back(ConvFrame{run.x.data() + t * plane, c.frames * plane});
  run.ref = testing::reference_conv(run.frames, c.height, c.width, p, run.w, run.bias);
  return run;
}

std::vector<float> run_conv(const TileCase& c, const ConvRun& run, ThreadPool& pool, ConvScratch& scratch,
                            const ConvTileWeights* tiles) {
  std::vector<float> out(run.ref.size(), -7.0f);
  conv3d_frames(run.frames.data(), static_cast<int64_t>(run.frames.size()), c.height, c.width, c.p,
                testing::conv_weight_view(run.w, c.p), run.bias.data(), out.data(), pool, scratch, tiles);
  return out;
}

const TileCase kCases[] = {
    {"causal 3x3x3, c_in 5, c_out 7", geometry(5, 7, 3, 3, 1, 1), 4, 6, 7, 2},
    {"3x3x3 c_in 37 c_out 19 (k 999)", geometry(37, 19, 3, 3, 1, 1), 3, 9, 10, 2},
    {"2d 3x3 stride 2 one-sided pad", geometry(6, 33, 1, 3, 2, 1, 1, true), 2, 11, 9, 0},
    {"nearest x2 + 3x3 pad 1, c_out 17", geometry(12, 17, 1, 3, 1, 1, 2), 2, 5, 7, 0},
    {"time 3x1x1, c_out 40", geometry(24, 40, 3, 1, 1, 0), 4, 5, 6, 2},
    {"1x1x1, c_in 48 c_out 3", geometry(48, 3, 1, 1, 1, 0), 3, 7, 9, 0},
    {"several bands + tail, c_in 70 c_out 50", geometry(70, 50, 3, 3, 1, 1), 1, 23, 21, 2},
    // Output rows of whole 16-pixel strips: the gather's one-row path (edges, null frames, upsampling).
    {"causal 3x3x3 width 32, c_in 19 c_out 21", geometry(19, 21, 3, 3, 1, 1), 3, 5, 32, 2},
    {"nearest x2 + 3x3 width 8 -> 16, c_out 18", geometry(20, 18, 1, 3, 1, 1, 2), 1, 4, 8, 0},
    {"nearest x3 + 3x3 width 16 -> 48", geometry(5, 6, 1, 3, 1, 1, 3), 1, 2, 16, 0},
    {"time 3x1x1 width 16, causal", geometry(33, 16, 3, 1, 1, 0), 2, 3, 16, 2},
};

TEST_F(ConvTiles, TilePathMatchesDirectConvolution) {
  for (ConvTileMode mode : {ConvTileMode::kX3, ConvTileMode::kX2, ConvTileMode::kX1}) {
    set_conv_tile_mode(mode);
    if (conv_tile_mode_in_effect() == ConvTileMode::kOff) GTEST_SKIP() << "this CPU/OS grants no AMX-BF16 tiles";
    // x3: ~2^-16 per product; x2 rounds the weights to bf16 (2^-9), x1 both operands.
    const double tol = mode == ConvTileMode::kX3 ? 1e-5 : mode == ConvTileMode::kX2 ? 1e-2 : 2e-2;
    for (int threads : {1, 3}) {
      ThreadPool pool(threads);
      ConvScratch scratch;
      scratch.tile_band_budget_bytes = 64 << 10;  // several bands on the larger cases
      uint32_t seed = 100;
      double worst = 0.0;
      for (const TileCase& c : kCases) {
        const ConvRun run = make_run(c, seed += 3);
        const ConvTileWeights tiles = pack_conv_tiles(testing::conv_weight_view(run.w, c.p), c.p, mode, &pool);
        ASSERT_FALSE(tiles.empty());
        EXPECT_EQ(tiles.bytes(), conv_tile_weight_bytes(c.p, mode));
        const double err = testing::max_rel_error(run_conv(c, run, pool, scratch, &tiles), run.ref);
        worst = std::max(worst, err);
        EXPECT_LE(err, tol) << c.name << " mode " << conv_tile_mode_name(mode) << " threads " << threads;
      }
      std::printf("tile conv %s threads %d: worst max|d|/max|ref| = %.3g\n", conv_tile_mode_name(mode), threads, worst);
    }
  }
}

// The packed weight from a pool (rows split across threads) is the scalar packer's A planes of the
// whole matrix (output channels as rows), padding rows zero.
TEST_F(ConvTiles, PackedWeightIsTheKernelLayout) {
  set_conv_tile_mode(ConvTileMode::kX3);
  if (conv_tile_mode_in_effect() == ConvTileMode::kOff) GTEST_SKIP() << "this CPU/OS grants no AMX-BF16 tiles";
  const Conv3dParams p = geometry(37, 35, 3, 3, 1, 1);
  const auto w = testing::gaussian(p.c_out * p.k(), 9);
  ThreadPool pool(3);
  const int64_t k_pad = bf16_tile_k_pad(p.k()), plane = bf16_tile_round16(p.c_out) * k_pad;
  std::vector<uint16_t> want_hi(static_cast<size_t>(plane), 0), want_lo(want_hi.size(), 0);
  for (int64_t co = 0; co < p.c_out; ++co) {
    split_bf16_tiles_row_ref(w.data() + co * p.k(), p.k(), k_pad, co, want_hi.data(), want_lo.data());
  }
  for (ConvTileMode mode : {ConvTileMode::kX3, ConvTileMode::kX1}) {
    const ConvTileWeights tiles = pack_conv_tiles(testing::conv_weight_view(w, p), p, mode, &pool);
    ASSERT_EQ(tiles.planes(), mode == ConvTileMode::kX3 ? 2 : 1);
    ASSERT_EQ(reinterpret_cast<uintptr_t>(tiles.hi()) % 64, 0u);
    EXPECT_TRUE(std::equal(want_hi.begin(), want_hi.end(), tiles.hi())) << conv_tile_mode_name(mode);
    if (mode == ConvTileMode::kX3) {
      EXPECT_TRUE(std::equal(want_lo.begin(), want_lo.end(), tiles.lo()));
    } else {
      EXPECT_EQ(tiles.lo(), nullptr);
    }
  }
}

// Off: the packed weight is ignored and the output is the FMA path's, bit for bit; likewise x3 with a
// weight packed for x1 / x2 (no lo plane); and off packs nothing.
TEST_F(ConvTiles, FallbackIsTheFmaPathBitForBit) {
  ThreadPool pool(2);
  ConvScratch scratch;
  const TileCase& c = kCases[1];
  const ConvRun run = make_run(c, 77);
  const std::vector<float> fma = run_conv(c, run, pool, scratch, nullptr);  // no tiles passed: the FMA path
  EXPECT_LE(testing::max_rel_error(fma, run.ref), 2e-6);
  set_conv_tile_mode(ConvTileMode::kX3);
  const ConvTileWeights x3 = pack_conv_tiles(testing::conv_weight_view(run.w, c.p), c.p, ConvTileMode::kX3, &pool);
  const ConvTileWeights x1 = pack_conv_tiles(testing::conv_weight_view(run.w, c.p), c.p, ConvTileMode::kX1, &pool);
  EXPECT_EQ(x3.empty(), kernels().bf16_tile_gemm == nullptr);
  EXPECT_EQ(run_conv(c, run, pool, scratch, &x1), fma) << "x3 with a weight packed without its lo plane";
  set_conv_tile_mode(ConvTileMode::kOff);
  EXPECT_EQ(conv_tile_mode_in_effect(), ConvTileMode::kOff);
  EXPECT_EQ(run_conv(c, run, pool, scratch, &x3), fma) << "mode off";
  EXPECT_TRUE(pack_conv_tiles(testing::conv_weight_view(run.w, c.p), c.p, ConvTileMode::kOff).empty());
  EXPECT_EQ(conv_tile_weight_bytes(c.p, ConvTileMode::kOff), 0);
  if (!x3.empty()) {  // and the tiles really are another arithmetic (the test above is not vacuous)
    set_conv_tile_mode(ConvTileMode::kX3);
    EXPECT_NE(run_conv(c, run, pool, scratch, &x3), fma);
  }
}

}  // namespace
}  // namespace frugal
