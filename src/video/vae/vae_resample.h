// Resample, the Wan VAE's spatial/temporal down- and upsampling block (video/vae layer).
//
//   downsample2d: ZeroPad2d((0,1,0,1)) (right and bottom) then Conv2d 3x3 stride 2 per frame.
//   downsample3d: the same, then time_conv (kernel 3x1x1, stride 2, no padding) over
//                 cat(last frame of the previous chunk, chunk). Skipped on the first chunk, whose
//                 frames pass through. Over a whole sequence [f0, f1, ...]: out0 = f0,
//                 out_j = time_conv(f_{2j-2}, f_{2j-1}, f_{2j}); later chunks must have even lengths.
//   upsample2d:   nearest x2 (= nearest-exact for x2) then Conv2d 3x3 pad 1 to C/2, per frame.
//   upsample3d:   first time_conv (causal 3x1x1, C -> 2C), each frame becoming two: channels [0,C) the
//                 first, [C,2C) the second. Skipped on the first chunk (1 frame stays 1); on later
//                 chunks it is a causal conv over the frames after frame 0 (zero cache at first).
//                 Then the upsample2d step.
// Names: <name>.resample.1.{weight,bias} (Conv2d), <name>.time_conv.{weight,bias}.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "video/vae/vae_blocks.h"

namespace frugal::video::vae {

enum class ResampleMode { kDownsample2d, kDownsample3d, kUpsample2d, kUpsample3d };

class Resample final : public VaeBlock {
 public:
  static Expected<std::unique_ptr<Resample>> load(const WeightStore& store, const std::string& name, int64_t dim,
                                                  ResampleMode mode);
  Activation forward(Activation x, VaeContext& ctx) override;
  void reset() override;

 private:
  Activation downsample_time(Activation x, VaeContext& ctx);
  Activation upsample_time(Activation x, VaeContext& ctx);
  Activation upsample_space(const Activation& x, VaeContext& ctx);

  ResampleMode mode_ = ResampleMode::kDownsample2d;
  int64_t dim_ = 0;
  VaeConv resample_;                  // the 3x3 Conv2d
  std::optional<VaeConv> time_conv_;  // the 3d modes only
  bool seen_first_chunk_ = false;
  Activation last_frame_;             // downsample3d: [C, 1, H/2, W/2], the previous chunk's last frame
};

}  // namespace frugal::video::vae
