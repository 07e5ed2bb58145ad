#include "video/vae/vae_coder.h"

#include "core/check.h"
#include "video/vae/vae_resample.h"

namespace frugal::video::vae {

Status CausalCoder::load_ends(const WeightStore& store, const std::string& prefix, int64_t in_dim, int64_t first_dim,
                              int64_t last_dim, int64_t out_dim) {
  auto conv_in = VaeConv::load(store, prefix + ".conv1", conv_params(in_dim, first_dim, 3, 3, 1), false, 2);
  if (!conv_in) return conv_in.error();
  conv_in_ = std::move(*conv_in);
  auto norm = RmsNorm::load(store, prefix + ".head.0.gamma", last_dim, /*images=*/false);
  if (!norm) return norm.error();
  head_norm_ = std::move(*norm);
  auto head = VaeConv::load(store, prefix + ".head.2", conv_params(last_dim, out_dim, 3, 3, 1), false, 2);
  if (!head) return head.error();
  head_conv_ = std::move(*head);
  return Status::ok();
}

Status CausalCoder::add_residual(const WeightStore& store, const std::string& name, int64_t in_dim, int64_t out_dim) {
  auto block = ResidualBlock::load(store, name, in_dim, out_dim);
  if (!block) return block.error();
  blocks_.push_back(std::move(*block));
  return Status::ok();
}

Status CausalCoder::add_attention(const WeightStore& store, const std::string& name, int64_t dim) {
  auto block = AttentionBlock::load(store, name, dim);
  if (!block) return block.error();
  blocks_.push_back(std::move(*block));
  return Status::ok();
}

Status CausalCoder::add_middle(const WeightStore& store, const std::string& prefix, int64_t dim) {
  if (Status s = add_residual(store, prefix + ".middle.0", dim, dim); !s) return s;
  if (Status s = add_attention(store, prefix + ".middle.1", dim); !s) return s;
  return add_residual(store, prefix + ".middle.2", dim, dim);
}

// Encoder3d: dims = dim * [1, dim_mult...]; level i: num_res_blocks residual blocks (+ attention),
// then a downsample (3d where temporal_downsample[i]) except after the last level.
Expected<CausalCoder> CausalCoder::load_encoder(const WeightStore& store, const WanVaeConfig& cfg) {
  CausalCoder coder;
  std::vector<int64_t> dims = {cfg.dim};
  for (int64_t m : cfg.dim_mult) dims.push_back(cfg.dim * m);
  int64_t idx = 0;
  auto name = [&] { return "encoder.downsamples." + std::to_string(idx++); };
  for (int64_t level = 0; level < cfg.levels(); ++level) {
    int64_t in_dim = dims[static_cast<size_t>(level)];
    const int64_t out_dim = dims[static_cast<size_t>(level) + 1];
    for (int64_t r = 0; r < cfg.num_res_blocks; ++r) {
      if (Status s = coder.add_residual(store, name(), in_dim, out_dim); !s) return s;
      if (cfg.encoder_level_has_attention(level)) {
        if (Status s = coder.add_attention(store, name(), out_dim); !s) return s;
      }
      in_dim = out_dim;
    }
    if (level != cfg.levels() - 1) {
      const ResampleMode mode = cfg.temporal_downsample[static_cast<size_t>(level)] ? ResampleMode::kDownsample3d
                                                                                   : ResampleMode::kDownsample2d;
      auto resample = Resample::load(store, name(), out_dim, mode);
      if (!resample) return resample.error();
      coder.blocks_.push_back(std::move(*resample));
    }
  }
  if (Status s = coder.add_middle(store, "encoder", dims.back()); !s) return s;
  if (Status s = coder.load_ends(store, "encoder", 3, dims.front(), dims.back(), 2 * cfg.z_dim); !s) return s;
  return coder;
}

// Decoder3d: dims = dim * [dim_mult[-1], reversed(dim_mult)...]; conv1, middle, then level i:
// num_res_blocks + 1 residual blocks (+ attention) from dims[i] (halved for i = 1, 2, 3: the previous
// upsample's conv halves the channels), then an upsample (3d where temporal_downsample reversed) except
// after the last level.
Expected<CausalCoder> CausalCoder::load_decoder(const WeightStore& store, const WanVaeConfig& cfg) {
  CausalCoder coder;
  std::vector<int64_t> dims = {cfg.dim * cfg.dim_mult.back()};
  for (auto it = cfg.dim_mult.rbegin(); it != cfg.dim_mult.rend(); ++it) dims.push_back(cfg.dim * *it);
  if (Status s = coder.add_middle(store, "decoder", dims.front()); !s) return s;
  int64_t idx = 0;
  auto name = [&] { return "decoder.upsamples." + std::to_string(idx++); };
  const int64_t levels = cfg.levels();
  for (int64_t level = 0; level < levels; ++level) {
    int64_t in_dim = dims[static_cast<size_t>(level)];
    if (level == 1 || level == 2 || level == 3) in_dim /= 2;  // as the official constructor
    const int64_t out_dim = dims[static_cast<size_t>(level) + 1];
    for (int64_t r = 0; r < cfg.num_res_blocks + 1; ++r) {
      if (Status s = coder.add_residual(store, name(), in_dim, out_dim); !s) return s;
      if (cfg.decoder_level_has_attention(level)) {
        if (Status s = coder.add_attention(store, name(), out_dim); !s) return s;
      }
      in_dim = out_dim;
    }
    if (level != levels - 1) {
      // temperal_upsample = temperal_downsample[::-1]
      const bool temporal = cfg.temporal_downsample[static_cast<size_t>(levels - 2 - level)];
      auto resample = Resample::load(store, name(), out_dim, temporal ? ResampleMode::kUpsample3d
                                                                      : ResampleMode::kUpsample2d);
      if (!resample) return resample.error();
      coder.blocks_.push_back(std::move(*resample));
    }
  }
  if (Status s = coder.load_ends(store, "decoder", cfg.z_dim, dims.front(), dims.back(), 3); !s) return s;
  return coder;
}

Activation CausalCoder::forward(Activation x, VaeContext& ctx) {
  x = conv_in_.forward(x, ctx);
  for (auto& block : blocks_) x = block->forward(std::move(x), ctx);
  head_norm_.apply(x, /*silu=*/true, *ctx.pool);
  return head_conv_.forward(x, ctx);
}

void CausalCoder::reset() {
  conv_in_.reset();
  for (auto& block : blocks_) block->reset();
  head_conv_.reset();
}

}  // namespace frugal::video::vae
