// Where a Wan model's parts live on disk (video/pipeline layer). Model folders are read as the
// official releases lay them out:
//   Wan2.1-T2V-*/   config.json, diffusion_pytorch_model.safetensors (or -0000N-of-0000M shards + the
//                   .safetensors.index.json), Wan2.1_VAE.safetensors, models_t5_umt5-xxl-enc-bf16.safetensors,
//                   google/umt5-xxl/spiece.model
//   Wan2.2-T2V-A14B/ the same with high_noise_model/ and low_noise_model/ DiT folders (two experts)
// The official VAE and umT5 ship as PyTorch pickles (`.pth`): tools/convert_wan/ converts them once
// to safetensors beside them, and a folder with only the `.pth` gets an error saying so. Users of
// ComfyUI-style single files name each part instead (--dit, --vae, --text-encoder, --tokenizer); a
// DiT may then be a GGUF file.
#pragma once

#include <string>
#include <vector>

#include "core/expected.h"

namespace frugal::video {

struct DitFiles {
  std::vector<std::string> weights;  // safetensors files, one index .json, or one .gguf
  std::string config_json;           // the DiT's config.json, or empty (sizes inferred from the tensors)
};

struct VideoModelFiles {
  std::vector<DitFiles> dits;  // one DiT; or two experts, high-noise first (Wan2.2 A14B)
  std::string vae;             // Wan VAE safetensors
  std::string text_encoder;    // umT5 encoder safetensors (may be empty when prompts come as context files)
  std::string tokenizer;       // SentencePiece model (may be empty: then only token ids can be given)
};

// Explicit paths that override (or replace) what the model folder provides.
struct VideoModelOverrides {
  std::vector<std::string> dit;  // several values: shards of one DiT
  std::string vae;
  std::string text_encoder;
  std::string tokenizer;
};

// Resolves a model folder (or "" when every part is given explicitly) into files. Every file named
// must exist; a missing part gets a Status that says which file was looked for and where.
Expected<VideoModelFiles> resolve_video_model_files(const std::string& model_dir, const VideoModelOverrides& overrides);

}  // namespace frugal::video
