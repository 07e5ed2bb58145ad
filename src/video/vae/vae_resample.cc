#include "video/vae/vae_resample.h"

#include <cstring>

#include "core/check.h"

namespace frugal::video::vae {

Expected<std::unique_ptr<Resample>> Resample::load(const WeightStore& store, const std::string& name, int64_t dim,
                                                   ResampleMode mode) {
  auto block = std::make_unique<Resample>();
  block->mode_ = mode;
  block->dim_ = dim;
  const bool down = mode == ResampleMode::kDownsample2d || mode == ResampleMode::kDownsample3d;
  const bool temporal = mode == ResampleMode::kDownsample3d || mode == ResampleMode::kUpsample3d;
  Conv3dParams space = conv_params(dim, down ? dim : dim / 2, 1, 3, down ? 0 : 1);
  if (down) {  // ZeroPad2d((0, 1, 0, 1)) then stride 2
    space.pad_bottom = space.pad_right = 1;
    space.stride_h = space.stride_w = 2;
  } else {  // Upsample(scale_factor 2, nearest-exact) then padding 1
    space.upsample = 2;
  }
  auto resample = VaeConv::load(store, name + ".resample.1", space, /*two_d=*/true, 0);
  if (!resample) return resample.error();
  block->resample_ = std::move(*resample);
  if (temporal) {
    Conv3dParams time = conv_params(dim, down ? dim : 2 * dim, 3, 1, 0);
    if (down) time.stride_t = 2;
    auto time_conv = VaeConv::load(store, name + ".time_conv", time, /*two_d=*/false, down ? 0 : 2);
    if (!time_conv) return time_conv.error();
    block->time_conv_ = std::move(*time_conv);
  }
  return block;
}

Activation Resample::forward(Activation x, VaeContext& ctx) {
  CHECK(x.c() == dim_, "Resample: channel count differs from the weights");
  switch (mode_) {
    case ResampleMode::kDownsample2d:
      return resample_.forward(x, ctx);
    case ResampleMode::kDownsample3d:
      return downsample_time(resample_.forward(x, ctx), ctx);
    case ResampleMode::kUpsample2d:
      return upsample_space(x, ctx);
    case ResampleMode::kUpsample3d:
      return upsample_space(upsample_time(std::move(x), ctx), ctx);
  }
  CHECK(false, "Resample: unknown mode");
  return x;
}

void Resample::reset() {
  seen_first_chunk_ = false;
  last_frame_ = Activation();
  if (time_conv_) time_conv_->reset();
}

// x [C, T, h, w] -> [C, T / 2, h, w] (the first chunk passes through). Either way the chunk's last
// frame is kept for the next chunk's time_conv.
Activation Resample::downsample_time(Activation x, VaeContext& ctx) {
  Activation out;  // [C, T / 2, h, w]
  if (seen_first_chunk_) {
    CHECK(x.t() % 2 == 0, "downsample3d: chunks after the first need an even frame count");
    std::vector<ConvFrame> frames = {last_frame_.frame(0)};
    for (int64_t t = 0; t < x.t(); ++t) frames.push_back(x.frame(t));
    out = time_conv_->forward_frames(frames, x.h(), x.w(), ctx);
  }
  if (last_frame_.empty()) last_frame_ = ctx.make(x.c(), 1, x.h(), x.w());
  for (int64_t c = 0; c < x.c(); ++c) {
    std::memcpy(last_frame_.plane_ptr(c, 0), x.plane_ptr(c, x.t() - 1), static_cast<size_t>(x.plane()) * sizeof(float));
  }
  if (!seen_first_chunk_) {
    seen_first_chunk_ = true;
    return x;
  }
  return out;
}

// x [C, T, h, w] -> [C, 2T, h, w] (the first chunk passes through): frame 2t + s is channels
// [s*C, (s+1)*C) of the causal time_conv at t.
Activation Resample::upsample_time(Activation x, VaeContext& ctx) {
  if (!seen_first_chunk_) {
    seen_first_chunk_ = true;
    return x;
  }
  const Activation y = time_conv_->forward(x, ctx);  // [2C, T, h, w]
  x = Activation();
  const int64_t c_dim = dim_, frames = y.t();
  Activation out = ctx.make(c_dim, 2 * frames, y.h(), y.w());
  for (int64_t c = 0; c < c_dim; ++c) {
    for (int64_t t = 0; t < frames; ++t) {
      for (int64_t s = 0; s < 2; ++s) {
        std::memcpy(out.plane_ptr(c, 2 * t + s), y.plane_ptr(s * c_dim + c, t), static_cast<size_t>(y.plane()) * sizeof(float));
      }
    }
  }
  return out;
}

// Nearest x2 then the 3x3 conv: [C, T, h, w] -> [C/2, T, 2h, 2w]. The conv reads the input upsampled
// (Conv3dParams::upsample), so the 4x larger upsampled activation never exists.
Activation Resample::upsample_space(const Activation& x, VaeContext& ctx) { return resample_.forward(x, ctx); }

}  // namespace frugal::video::vae
