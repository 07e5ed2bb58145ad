// The tensors of a Wan2.1 VAE of a given config, with their official state-dict names and shapes
// (video/vae layer): what `frugal mkmodel --preset wan*` writes, and the inverse of infer_vae_config.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "video/vae/vae_config.h"

namespace frugal::video {

struct VaeTensorSpec {
  std::string name;            // e.g. "decoder.upsamples.3.time_conv.weight"
  std::vector<int64_t> shape;  // PyTorch order
};

// `_video_vae`'s config with base width `dim` (96 in the release): z_dim 16, dim_mult [1,2,4,4],
// 2 residual blocks, no attention scales, temporal downsampling [False, True, True].
vae::WanVaeConfig wan21_vae_config(int64_t dim);

// Every tensor of WanVAE_(config), in module order: encoder (conv1, downsamples, middle, head),
// conv1, conv2, decoder (conv1, middle, upsamples, head).
std::vector<VaeTensorSpec> vae_tensor_specs(const vae::WanVaeConfig& config);

}  // namespace frugal::video
