// conv3d (ops/conv.h) against a direct double-precision convolution: 3D/2D/1x1x1 kernels, spatial
// and temporal strides, symmetric and one-sided padding, nearest upsampling read on the fly, null
// (zero) frames, frames with their own channel strides, several bands with a tail, and 1..3 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "ops/conv.h"
#include "common/random_fill.h"
#include "conv_reference.h"

namespace frugal {
namespace {

struct ConvCase {
  const char* name;
  Conv3dParams p;
  int64_t frames, height, width;
  int64_t pad_front, pad_back;
  bool with_bias;
};

Conv3dParams geometry(int64_t c_in, int64_t c_out, int64_t kt, int64_t kh, int64_t kw, int64_t st, int64_t sh,
                      int64_t sw, int64_t top, int64_t bottom, int64_t left, int64_t right, int64_t upsample = 1) {
  Conv3dParams p;
  p.c_in = c_in;
  p.c_out = c_out;
  p.kernel_t = kt;
  p.kernel_h = kh;
  p.kernel_w = kw;
  p.stride_t = st;
  p.stride_h = sh;
  p.stride_w = sw;
  p.pad_top = top;
  p.pad_bottom = bottom;
  p.pad_left = left;
  p.pad_right = right;
  p.upsample = upsample;
  return p;
}

TEST(Conv3d, MatchesDirectConvolution) {
  const ConvCase cases[] = {
      {"causal 3x3x3", geometry(5, 7, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1), 4, 6, 7, 2, 0, true},
      {"2d 3x3 pad 1", geometry(4, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1), 3, 5, 9, 0, 0, true},
      {"downsample 3x3 s2 pad (0,1,0,1)", geometry(6, 5, 1, 3, 3, 1, 2, 2, 0, 1, 0, 1), 2, 8, 10, 0, 0, true},
      {"downsample odd size", geometry(3, 4, 1, 3, 3, 1, 2, 2, 0, 1, 0, 1), 1, 7, 9, 0, 0, false},
      {"time 3x1x1 stride 2", geometry(6, 6, 3, 1, 1, 2, 1, 1, 0, 0, 0, 0), 5, 4, 3, 0, 0, true},
      {"time 3x1x1 causal", geometry(4, 8, 3, 1, 1, 1, 1, 1, 0, 0, 0, 0), 3, 3, 5, 2, 0, true},
      {"1x1x1", geometry(9, 11, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0), 3, 4, 6, 0, 0, true},
      {"1x1x1 c_out 1", geometry(16, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0), 1, 3, 3, 0, 0, false},
      {"asymmetric 2x3x2", geometry(3, 5, 2, 3, 2, 1, 1, 2, 2, 0, 1, 1), 4, 5, 5, 1, 1, true},
      {"nearest x2 + 3x3 pad 1", geometry(5, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2), 2, 3, 5, 0, 0, true},
      {"nearest x3 + causal 3x3x3 s2", geometry(3, 6, 3, 3, 3, 1, 2, 2, 1, 1, 1, 1, 3), 3, 4, 3, 2, 0, true},
      {"several bands + tail", geometry(64, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1, 41, 39, 2, 0, true},
  };
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    ConvScratch scratch;
    uint32_t seed = 10;
    for (const ConvCase& c : cases) {
      const Conv3dParams& p = c.p;
      const auto x = testing::gaussian(p.c_in * c.frames * c.height * c.width, ++seed);
      const auto w = testing::gaussian(p.c_out * p.k(), ++seed);
      const auto bias = c.with_bias ? testing::gaussian(p.c_out, ++seed) : std::vector<float>{};
      std::vector<ConvFrame> frames(static_cast<size_t>(c.pad_front + c.frames + c.pad_back));
      const int64_t plane = c.height * c.width;
      for (int64_t t = 0; t < c.frames; ++t) {
        frames[static_cast<size_t>(c.pad_front + t)] = ConvFrame{x.data() + t * plane, c.frames * plane};
      }
      const auto ref = testing::reference_conv(frames, c.height, c.width, p, w, bias);
      std::vector<float> out(ref.size(), -7.0f);
      conv3d(x.data(), c.frames, c.height, c.width, c.pad_front, c.pad_back, p, testing::conv_weight_view(w, p),
             c.with_bias ? bias.data() : nullptr, out.data(), pool, scratch);
      const double err = testing::max_rel_error(out, ref);
      std::printf("conv3d %-34s threads %d: max|d|/max|ref| = %.3g\n", c.name, threads, err);
      EXPECT_LE(err, 2e-6) << c.name;
    }
  }
}

// Frames given one by one with their own channel strides (a causal cache held apart from the chunk)
// equal the same frames in one contiguous tensor, bit for bit.
TEST(Conv3d, SeparateFramesEqualContiguousTensor) {
  ThreadPool pool(2);
  ConvScratch scratch;
  const Conv3dParams p = geometry(6, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  const int64_t frames = 5, height = 5, width = 6, plane = height * width;
  const auto x = testing::gaussian(p.c_in * frames * plane, 3);
  const auto w = testing::gaussian(p.c_out * p.k(), 4);
  const auto bias = testing::gaussian(p.c_out, 5);
  // The first two frames copied out as standalone [C, H, W] frames.
  std::vector<float> cache(static_cast<size_t>(2 * p.c_in * plane));
  for (int64_t t = 0; t < 2; ++t) {
    for (int64_t c = 0; c < p.c_in; ++c) {
      std::copy_n(x.data() + (c * frames + t) * plane, plane, cache.data() + (t * p.c_in + c) * plane);
    }
  }
  std::vector<ConvFrame> list = {ConvFrame{cache.data(), plane}, ConvFrame{cache.data() + p.c_in * plane, plane}};
  for (int64_t t = 2; t < frames; ++t) list.push_back(ConvFrame{x.data() + t * plane, frames * plane});
  const int64_t t_out = frames - 2;
  std::vector<float> split(static_cast<size_t>(p.c_out * t_out * plane));
  std::vector<float> whole(split.size());
  conv3d_frames(list.data(), static_cast<int64_t>(list.size()), height, width, p, testing::conv_weight_view(w, p), bias.data(),
                split.data(), pool, scratch);
  conv3d(x.data(), frames, height, width, 0, 0, p, testing::conv_weight_view(w, p), bias.data(), whole.data(), pool, scratch);
  EXPECT_EQ(split, whole);
}

TEST(Conv3d, OutputSize) {
  EXPECT_EQ(conv_out_size(32, 3, 2, 0, 1), 16);  // Wan downsample: ZeroPad2d((0,1,0,1)) then 3x3 stride 2
  EXPECT_EQ(conv_out_size(7, 3, 2, 0, 1), 3);
  EXPECT_EQ(conv_out_size(5, 3, 2, 0, 0), 2);    // time_conv over cat(last frame, 4 frames)
  EXPECT_EQ(conv_out_size(2, 3, 1, 0, 0), 0);
}

}  // namespace
}  // namespace frugal
