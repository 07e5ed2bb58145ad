// DitConfig: the hyper-parameters of a Wan2.1 DiT (`WanModel`, text-to-video), where they come from
// (the official config.json, a preset, or the tensor shapes of a weight file alone), and the list of
// tensors a config implies (video/dit layer).
//
// The official repositories ship a config.json beside diffusion_pytorch_model.safetensors; keys it
// leaves out take WanModel.__init__'s defaults (the real t2v configs omit text_dim, patch_size,
// qk_norm, cross_attn_norm). ComfyUI single files have no config: infer_dit_config reads the sizes
// from the shapes, which determine everything except the head count (see there).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "video/weights/weight_store.h"

namespace frugal::video {

// Every real Wan2.1 DiT (1.3B: dim 1536 / 12 heads, 14B: dim 5120 / 40 heads) has head_dim 128.
inline constexpr int64_t kWanHeadDim = 128;
// WanModel's default text_len: the T5 context is zero-padded to this many rows.
inline constexpr int64_t kWanDefaultTextLen = 512;

// Defaults are WanModel.__init__'s.
struct DitConfig {
  std::string model_type = "t2v";              // only t2v is implemented
  std::array<int64_t, 3> patch_size = {1, 2, 2};  // (pt, ph, pw): Conv3d kernel = stride
  int64_t text_len = kWanDefaultTextLen;       // context rows after zero-padding
  int64_t in_dim = 16;                         // latent channels in
  int64_t dim = 2048;                          // model width
  int64_t ffn_dim = 8192;                      // FFN hidden width
  int64_t freq_dim = 256;                      // timestep sinusoid width
  int64_t text_dim = 4096;                     // T5 output width
  int64_t out_dim = 16;                        // latent channels out
  int64_t num_heads = 16;
  int64_t num_layers = 32;
  bool qk_norm = true;          // RMSNorm over the whole dim on q and k (norm_q / norm_k)
  bool cross_attn_norm = true;  // affine LayerNorm norm3 before cross-attention
  float eps = 1e-6f;            // LayerNorm / RMSNorm epsilon

  int64_t head_dim() const { return num_heads > 0 ? dim / num_heads : 0; }
  int64_t patch_volume() const { return patch_size[0] * patch_size[1] * patch_size[2]; }
  bool operator==(const DitConfig&) const = default;
};

// "model_type t2v, dim 1536, ffn_dim 8960, heads 12, layers 30, ..." for messages and logs.
std::string dit_config_summary(const DitConfig& config);

// kInvalidArgument unless every size is positive, dim % num_heads == 0 and head_dim is even (RoPE
// pairs); kUnimplemented for a model_type other than "t2v".
Status validate_dit_config(const DitConfig& config);

// Parses the official config.json text. dim, ffn_dim, num_heads and num_layers are required (every
// real config has them); other keys default as in WanModel. window_size must be [-1, -1] (global
// attention), _class_name (when present) "WanModel". Errors name the key.
Expected<DitConfig> parse_dit_config_json(std::string_view json_text);
// Reads and parses a config.json file.
Expected<DitConfig> load_dit_config_file(const std::string& path);

// Sizes from the tensor shapes alone: dim / in_dim / patch from patch_embedding.weight, num_layers
// by counting blocks.N, ffn_dim from blocks.0.ffn.0.weight, freq_dim from time_embedding.0.weight,
// text_dim from text_embedding.0.weight, out_dim from head.head.weight, qk_norm / cross_attn_norm
// from the presence of norm_q / norm3. The shapes do not determine the head count: it is taken from
// the string metadata "num_heads" when the file has one, else dim / kWanHeadDim (true of every real
// Wan model; kInvalidArgument if dim is not a multiple). text_len and eps likewise come from
// metadata or default to 512 and 1e-6. An image-to-video file (img_emb.*) is kUnimplemented.
Expected<DitConfig> infer_dit_config(const WeightStore& store);

// The shapes of the released models: "wan2.1-1.3b", "wan2.1-14b" (t2v). kNotFound lists the names.
Expected<DitConfig> dit_config_preset(std::string_view name);
std::vector<std::string> dit_config_preset_names();

// One tensor of the official state dict.
struct DitTensorSpec {
  std::string name;            // e.g. "blocks.0.self_attn.q.weight"
  std::vector<int64_t> shape;  // PyTorch order
};

// Every tensor a WanModel of this config has, with its shape, in a fixed order (embeddings, blocks
// in order, head). The RoPE table is not among them: it is not in the checkpoints.
std::vector<DitTensorSpec> dit_tensor_specs(const DitConfig& config);

// OK when every tensor of dit_tensor_specs(config) is in the store with its shape and the store has
// no block beyond num_layers. kNotFound / kInvalidArgument name the first offending tensor.
Status check_dit_store(const DitConfig& config, const WeightStore& store);

}  // namespace frugal::video
