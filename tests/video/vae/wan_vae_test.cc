// WanVae against the official Wan2.1 reference vectors (tests/data/wan/vae_a): encode of a 9-frame
// video and of an image, decodes of their latents and of a 4-frame latent (clamped and raw), the
// config inferred from the state dict, the latent statistics, streaming vs whole-buffer decode, the
// dropped trailing frames, and a decode working set that does not grow with the latent length.
#include <gtest/gtest.h>

#include <random>

#include "video/vae/vae_test_util.h"

namespace frugal::video {
namespace {

using vae_test::case_tensor;
using vae_test::compare;
using vae_test::vae_tolerance;

class WanVaeTest : public vae_test::CaseVaeTest {};

TEST_F(WanVaeTest, InfersTheConfigFromTensorShapes) {
  const vae::WanVaeConfig& cfg = vae_->config();
  std::printf("config: %s\n", cfg.to_string().c_str());
  EXPECT_EQ(cfg.dim, 8);
  EXPECT_EQ(cfg.z_dim, 16);
  EXPECT_EQ(cfg.dim_mult, (std::vector<int64_t>{1, 2, 4, 4}));
  EXPECT_EQ(cfg.num_res_blocks, 2);
  EXPECT_EQ(cfg.temporal_downsample, (std::vector<bool>{false, true, true}));
  EXPECT_TRUE(cfg.attn_scales.empty());
}

TEST_F(WanVaeTest, LatentStatisticsMatchTheReference) {
  const nlohmann::json params = vae_test::case_meta()["params"];
  const auto inv_std = wan_vae_inv_std();
  for (size_t c = 0; c < kWanVaeZDim; ++c) {
    EXPECT_EQ(kWanVaeLatentMean[c], params["mean"][c].get<float>()) << c;
    EXPECT_EQ(kWanVaeLatentStd[c], params["std"][c].get<float>()) << c;
    EXPECT_EQ(inv_std[c], params["inv_std_f32"][c].get<float>()) << c;  // bit-exact 1/std in f32
  }
}

TEST_F(WanVaeTest, EncodesVideo) {
  const auto video = case_tensor("video");
  const auto ref = case_tensor("video_mu");
  auto mu = vae_->encode(video.data.data(), video.shape, pool_);
  ASSERT_TRUE(mu.has_value()) << mu.error().to_string();
  EXPECT_EQ(mu->shape, ref.shape);
  EXPECT_LE(compare("encode video -> video_mu", mu->data, ref.data), vae_tolerance());
  std::printf("encode peak scratch: %lld bytes\n", static_cast<long long>(vae_->peak_scratch_bytes()));
}

TEST_F(WanVaeTest, DecodesVideoLatent) {
  const auto mu = case_tensor("video_mu");
  auto video = vae_->decode_all(mu.data.data(), mu.shape, pool_);
  ASSERT_TRUE(video.has_value()) << video.error().to_string();
  EXPECT_EQ(video->shape, case_tensor("video_decoded_raw").shape);
  EXPECT_LE(compare("decode video_mu -> video_decoded_raw", video->data, case_tensor("video_decoded_raw").data),
            vae_tolerance());
  clamp_unit(video->data.data(), static_cast<int64_t>(video->data.size()));
  EXPECT_LE(compare("decode video_mu -> video_decoded", video->data, case_tensor("video_decoded").data), vae_tolerance());
}

TEST_F(WanVaeTest, EncodesAndDecodesImage) {
  const auto image = case_tensor("image");
  auto mu = vae_->encode(image.data.data(), image.shape, pool_);
  ASSERT_TRUE(mu.has_value()) << mu.error().to_string();
  EXPECT_LE(compare("encode image -> image_mu", mu->data, case_tensor("image_mu").data), vae_tolerance());
  const auto ref_mu = case_tensor("image_mu");
  auto decoded = vae_->decode_all(ref_mu.data.data(), ref_mu.shape, pool_);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().to_string();
  EXPECT_EQ(decoded->shape, image.shape);
  EXPECT_LE(compare("decode image_mu -> image_decoded_raw", decoded->data, case_tensor("image_decoded_raw").data),
            vae_tolerance());
  clamp_unit(decoded->data.data(), static_cast<int64_t>(decoded->data.size()));
  EXPECT_LE(compare("decode image_mu -> image_decoded", decoded->data, case_tensor("image_decoded").data),
            vae_tolerance());
}

TEST_F(WanVaeTest, DecodesLatentZ) {
  const auto z = case_tensor("z");
  auto video = vae_->decode_all(z.data.data(), z.shape, pool_);
  ASSERT_TRUE(video.has_value()) << video.error().to_string();
  EXPECT_EQ(video->shape, case_tensor("z_decoded_raw").shape);
  EXPECT_LE(compare("decode z -> z_decoded_raw", video->data, case_tensor("z_decoded_raw").data), vae_tolerance());
  clamp_unit(video->data.data(), static_cast<int64_t>(video->data.size()));
  EXPECT_LE(compare("decode z -> z_decoded", video->data, case_tensor("z_decoded").data), vae_tolerance());
}

// The same decode on the f32 FMA convolutions (the fixtures' 2e-5) and, where the CPU grants them,
// on AMX-BF16 x3 tiles (2.5e-4; and not bit-equal to the FMA path, so the tiles really ran).
TEST_F(WanVaeTest, DecodesLatentZOnBothConvolutionPaths) {
  const ConvTileMode saved = conv_tile_mode();
  const auto z = case_tensor("z");
  const auto want = case_tensor("z_decoded_raw");
  set_conv_tile_mode(ConvTileMode::kOff);
  auto fma = vae_->decode_all(z.data.data(), z.shape, pool_);
  ASSERT_TRUE(fma.has_value()) << fma.error().to_string();
  EXPECT_LE(compare("decode z on f32 FMA", fma->data, want.data), vae_test::kVaeTolerance);
  set_conv_tile_mode(ConvTileMode::kX3);
  if (conv_tile_mode_in_effect() == ConvTileMode::kX3) {
    auto tiles = vae_->decode_all(z.data.data(), z.shape, pool_);
    ASSERT_TRUE(tiles.has_value()) << tiles.error().to_string();
    EXPECT_LE(compare("decode z on AMX-BF16 x3", tiles->data, want.data), vae_test::kVaeTileTolerance);
    EXPECT_NE(tiles->data, fma->data);
  }
  set_conv_tile_mode(saved);
}

// The sink sees 1 frame, then 4 per latent frame, and their concatenation is the whole-buffer decode.
TEST_F(WanVaeTest, StreamingDecodeEqualsWholeBuffer) {
  const auto z = case_tensor("z");
  auto whole = vae_->decode_all(z.data.data(), z.shape, pool_);
  ASSERT_TRUE(whole.has_value());
  const int64_t frames = whole->shape[1], plane = whole->shape[2] * whole->shape[3];
  std::vector<int64_t> chunk_sizes;
  std::vector<float> streamed(whole->data.size());
  int64_t next = 0;
  const Status s = vae_->decode(z.data.data(), z.shape, [&](const float* chunk, int64_t n) {
    chunk_sizes.push_back(n);
    for (int64_t c = 0; c < 3; ++c) {
      std::copy_n(chunk + c * n * plane, n * plane, streamed.data() + (c * frames + next) * plane);
    }
    next += n;
    return Status::ok();
  }, pool_);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(chunk_sizes, (std::vector<int64_t>{1, 4, 4, 4}));
  EXPECT_EQ(streamed, whole->data);  // same bytes
}

TEST_F(WanVaeTest, SinkErrorStopsTheDecode) {
  const auto z = case_tensor("z");
  int calls = 0;
  const Status s = vae_->decode(z.data.data(), z.shape, [&](const float*, int64_t) {
    ++calls;
    return calls == 2 ? Status(StatusCode::kCancelled, "client went away") : Status::ok();
  }, pool_);
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 2);
}

// Frames after the last full group of 4 are dropped: 9 + 3 frames encode exactly as the first 9.
TEST_F(WanVaeTest, EncodeDropsTrailingFrames) {
  const auto video = case_tensor("video");
  const int64_t frames = video.shape[1], plane = video.shape[2] * video.shape[3], extra = 3;
  std::array<int64_t, 4> longer_shape = video.shape;
  longer_shape[1] = frames + extra;
  std::vector<float> longer(static_cast<size_t>(3 * (frames + extra) * plane));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t c = 0; c < 3; ++c) {
    std::copy_n(video.data.data() + c * frames * plane, frames * plane, longer.data() + c * (frames + extra) * plane);
    for (int64_t i = 0; i < extra * plane; ++i) longer[static_cast<size_t>((c * (frames + extra) + frames) * plane + i)] = dist(rng);
  }
  auto base = vae_->encode(video.data.data(), video.shape, pool_);
  auto dropped = vae_->encode(longer.data(), longer_shape, pool_);
  ASSERT_TRUE(base.has_value() && dropped.has_value());
  EXPECT_EQ(dropped->shape, base->shape);
  EXPECT_EQ(dropped->data, base->data);
}

// The decoder runs one latent frame at a time: 3x more latent frames, the same working set.
TEST_F(WanVaeTest, DecodeWorkingSetDoesNotGrowWithLength) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  int64_t peak[2] = {0, 0};
  const int64_t lengths[2] = {2, 6};
  for (int i = 0; i < 2; ++i) {
    const std::array<int64_t, 4> shape = {16, lengths[i], 3, 5};
    std::vector<float> z(static_cast<size_t>(16 * lengths[i] * 15));
    for (float& v : z) v = dist(rng);
    const Status s = vae_->decode(z.data(), shape, [](const float*, int64_t) { return Status::ok(); }, pool_);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    peak[i] = vae_->peak_scratch_bytes();
    std::printf("decode of %lld latent frames: peak scratch %lld bytes\n", static_cast<long long>(lengths[i]),
                static_cast<long long>(peak[i]));
  }
  EXPECT_GT(peak[0], 0);
  EXPECT_LE(peak[1], peak[0]);
}

TEST_F(WanVaeTest, RejectsBadShapes) {
  const std::vector<float> buffer(4 * 9 * 32 * 48 + 1024, 0.0f);
  const auto expect_invalid = [](const Status& s, const char* what) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << what << ": " << s.to_string();
    std::printf("%-28s -> %s\n", what, s.to_string().c_str());
  };
  expect_invalid(vae_->encode(buffer.data(), {3, 9, 30, 48}, pool_).error(), "encode H = 30");
  expect_invalid(vae_->encode(buffer.data(), {3, 9, 32, 44}, pool_).error(), "encode W = 44");
  expect_invalid(vae_->encode(buffer.data(), {4, 9, 32, 48}, pool_).error(), "encode 4 channels");
  expect_invalid(vae_->encode(buffer.data(), {3, 0, 32, 48}, pool_).error(), "encode 0 frames");
  expect_invalid(vae_->decode_all(buffer.data(), {8, 2, 3, 5}, pool_).error(), "decode 8 channels");
  expect_invalid(vae_->decode_all(buffer.data(), {16, 0, 3, 5}, pool_).error(), "decode 0 frames");
}

}  // namespace
}  // namespace frugal::video
