// The Wan VAE's blocks (video/vae layer): the interface the encoder/decoder run chunk by chunk, the
// residual block and the per-frame mid attention. Resample lives in vae_resample.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/expected.h"
#include "video/vae/vae_activation.h"
#include "video/vae/vae_layers.h"
#include "video/weights/weight_store.h"

namespace frugal::video::vae {

// One block of the encoder/decoder. forward() consumes one chunk [C, T, H, W] of a sequence and
// returns the block's output for it; blocks with a temporal receptive field keep caches between the
// chunks of one sequence until reset().
class VaeBlock {
 public:
  virtual ~VaeBlock() = default;
  virtual Activation forward(Activation x, VaeContext& ctx) = 0;
  virtual void reset() = 0;
};

// ResidualBlock(in, out): residual = norm(in) -> SiLU -> causal conv 3x3x3 -> norm(out) -> SiLU ->
// causal conv 3x3x3; shortcut = causal 1x1x1 conv when in != out, else identity; out = residual + shortcut.
// Names: <name>.residual.{0,3}.gamma, <name>.residual.{2,6}.{weight,bias}, <name>.shortcut.{weight,bias}.
class ResidualBlock final : public VaeBlock {
 public:
  static Expected<std::unique_ptr<ResidualBlock>> load(const WeightStore& store, const std::string& name,
                                                       int64_t in_dim, int64_t out_dim);
  Activation forward(Activation x, VaeContext& ctx) override;
  void reset() override;

 private:
  RmsNorm norm1_, norm2_;
  VaeConv conv1_, conv2_;
  std::unique_ptr<VaeConv> shortcut_;  // null: identity
};

// AttentionBlock(dim): per frame, one head over the H*W positions, scale 1/sqrt(C):
//   x + proj(attention(q, k, v)) with [q | k | v] = to_qkv(norm(x)) (channels [0,C), [C,2C), [2C,3C)).
// Names: <name>.norm.gamma [C,1,1], <name>.to_qkv.{weight [3C,C,1,1], bias}, <name>.proj.{weight [C,C,1,1], bias}.
class AttentionBlock final : public VaeBlock {
 public:
  static Expected<std::unique_ptr<AttentionBlock>> load(const WeightStore& store, const std::string& name,
                                                        int64_t dim);
  Activation forward(Activation x, VaeContext& ctx) override;
  void reset() override {}

 private:
  void attend_frame(Activation& x, int64_t t, VaeContext& ctx) const;

  int64_t dim_ = 0;
  RmsNorm norm_;
  MatrixWeight to_qkv_;            // [3C, C]
  std::vector<float> to_qkv_bias_;  // [3C]
  MatrixWeight proj_;               // [C, C]
  std::vector<float> proj_bias_;    // [C]
};

}  // namespace frugal::video::vae
