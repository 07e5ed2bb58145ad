// Encoder3d / Decoder3d of the Wan VAE (video/vae layer): conv1 -> blocks -> head (RMS_norm, SiLU,
// causal conv), run one chunk at a time with every block's causal state kept in the blocks.
// Built from a WanVaeConfig exactly as the official constructors lay the modules out, so tensor
// names follow from the config and every tensor's shape is checked at load.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/expected.h"
#include "video/vae/vae_blocks.h"
#include "video/vae/vae_config.h"
#include "video/weights/weight_store.h"

namespace frugal::video::vae {

class CausalCoder {
 public:
  // encoder.*: [3, T, H, W] -> [2 z_dim, T', H/8, W/8] (official chunks: 1 frame, then 4 at a time).
  static Expected<CausalCoder> load_encoder(const WeightStore& store, const WanVaeConfig& cfg);
  // decoder.*: [z_dim, 1, h, w] per call -> [3, 1 (first call) or 4, 8h, 8w].
  static Expected<CausalCoder> load_decoder(const WeightStore& store, const WanVaeConfig& cfg);

  // One chunk of the current sequence. The first chunk of a sequence must be a single frame.
  Activation forward(Activation x, VaeContext& ctx);
  // Starts a new sequence: drops every cache.
  void reset();

 private:
  Status load_ends(const WeightStore& store, const std::string& prefix, int64_t in_dim, int64_t first_dim,
                   int64_t last_dim, int64_t out_dim);
  Status add_residual(const WeightStore& store, const std::string& name, int64_t in_dim, int64_t out_dim);
  Status add_attention(const WeightStore& store, const std::string& name, int64_t dim);
  Status add_middle(const WeightStore& store, const std::string& prefix, int64_t dim);

  VaeConv conv_in_;                               // <prefix>.conv1, causal 3x3x3
  std::vector<std::unique_ptr<VaeBlock>> blocks_;  // in execution order (levels and middle)
  RmsNorm head_norm_;                             // <prefix>.head.0
  VaeConv head_conv_;                             // <prefix>.head.2, causal 3x3x3
};

}  // namespace frugal::video::vae
