// `frugal mkmodel --preset wan*`: a random-weight Wan text-to-video model folder of a real shape, laid
// out as the official releases are (tools layer), so video benchmarks and tests need no download.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace frugal::cli {

struct WanMkmodelArgs {
  std::string preset;          // "wan2.1-1.3b", "wan2.1-14b", "wan-tiny"
  std::string out_dir;
  std::string dit_type = "f32";  // f32 | bf16 | f16: the DiT's safetensors dtype
  uint64_t seed = 42;
  int threads = 0;
  int dit_shards = 0;            // 0: as the release (14B: 6 shards + index JSON; 1.3B, tiny: one file)
  int t5_layers = 0;             // 0: the preset's umT5 depth (XXL: 24); else only the first N blocks
                                 // (same width: benchmarks whose memory cannot hold the 11.4 GB encoder)
};

bool is_wan_preset(const std::string& name);
std::vector<std::string> wan_preset_names();
// Writes config.json, diffusion_pytorch_model.safetensors (or, sharded, diffusion_pytorch_model-0000k-of-0000N
// .safetensors and diffusion_pytorch_model.safetensors.index.json), Wan2.1_VAE.safetensors,
// models_t5_umt5-xxl-enc-bf16.safetensors and google/umt5-xxl/spiece.model (a small unigram
// vocabulary trained on generated captions: random models have no real one) into out_dir.
Status write_wan_model(const WanMkmodelArgs& args);

}  // namespace frugal::cli
