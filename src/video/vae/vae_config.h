// WanVaeConfig: the sizes of a Wan2.1 VAE (WanVAE_), inferred from the tensor names and shapes of
// its state dict (video/vae layer). The official release ships no config file; `_video_vae` builds
// dim 96, z_dim 16, dim_mult [1,2,4,4], 2 residual blocks, no attention scales and temporal
// downsampling [False, True, True].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/expected.h"
#include "video/weights/weight_store.h"

namespace frugal::video::vae {

struct WanVaeConfig {
  int64_t dim = 0;                        // base channel count (encoder.conv1 output)
  int64_t z_dim = 0;                      // latent channels (conv2)
  std::vector<int64_t> dim_mult;          // channel multiplier per level
  int64_t num_res_blocks = 0;             // residual blocks per encoder level (decoder: + 1)
  std::vector<bool> temporal_downsample;  // per level but the last: its Resample halves time
  std::vector<double> attn_scales;        // scales (1, 1/2, ...) whose levels hold attention blocks

  int64_t levels() const { return static_cast<int64_t>(dim_mult.size()); }
  // Encoder level l runs at scale 2^-l; decoder level i at 2^(i - (levels - 2)) (official arithmetic).
  bool encoder_level_has_attention(int64_t level) const;
  bool decoder_level_has_attention(int64_t level) const;
  // "dim 8, z_dim 16, dim_mult [1,2,4,4], 2 res blocks, temporal [F,T,T], attn_scales []"
  std::string to_string() const;
};

// Walks encoder.downsamples.* (residual blocks, attention blocks, resamples) and reads dim from
// encoder.conv1.weight and z_dim from conv2.weight. kNotFound when a key tensor is missing,
// kInvalidArgument when the structure is not a WanVAE_ one. Shapes of the remaining tensors are
// checked when the layers load.
Expected<WanVaeConfig> infer_vae_config(const WeightStore& store);

}  // namespace frugal::video::vae
