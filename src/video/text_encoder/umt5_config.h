// UmT5Config: the sizes of Wan2.1's umT5 text encoder (wan/modules/t5.py T5Encoder with shared_pos=False),
// inferred from a checkpoint's tensor shapes, plus the tensor list of a config for `frugal mkmodel`
// (video text_encoder layer). umT5 checkpoints ship no config file: everything follows from the shapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/expected.h"
#include "video/weights/weight_store.h"

namespace frugal::video {

struct UmT5Config {
  int64_t vocab = 0;        // token_embedding rows
  int64_t dim = 0;          // model width
  int64_t dim_attn = 0;     // q/k/v width = num_heads · head_dim
  int64_t dim_ffn = 0;      // gated-GELU hidden width
  int64_t num_heads = 0;    // from blocks.N.pos_embedding.embedding.weight [num_buckets, num_heads]
  int64_t num_layers = 0;   // number of blocks.N
  int64_t num_buckets = 0;  // relative-position buckets (bidirectional: half per direction)
  int64_t max_distance = 128;  // T5RelativeEmbedding's max_dist (not stored in checkpoints)
  float norm_eps = 1e-6f;      // T5LayerNorm's eps (not stored in checkpoints)

  int64_t head_dim() const { return dim_attn / num_heads; }
  // Every tensor's parameters, all layers.
  int64_t num_params() const;
};

// umt5_xxl() of wan/modules/t5.py, encoder only: the checkpoint models_t5_umt5-xxl-enc-bf16.pth.
UmT5Config umt5_xxl_config();

// Reads the sizes from the shapes of token_embedding.weight [vocab, dim], blocks.0.attn.q.weight
// [dim_attn, dim], blocks.0.ffn.fc1.weight [dim_ffn, dim], blocks.0.pos_embedding.embedding.weight
// [num_buckets, num_heads], and counts blocks.N. Fails with a Status naming the missing tensor, or on
// inconsistent sizes (dim_attn not a multiple of num_heads, an odd num_buckets, a gap in blocks.N).
Expected<UmT5Config> infer_umt5_config(const WeightStore& store);

// One tensor of a checkpoint: the official state-dict name and its PyTorch shape.
struct UmT5TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};

// Every tensor of an encoder checkpoint of this config (official names, sorted as safetensors stores
// them), for writing random-weight models of a real shape. All are weights of Linear/Embedding/norm
// modules; the norms ("…norm….weight") are the [dim] vectors.
std::vector<UmT5TensorSpec> umt5_tensor_specs(const UmT5Config& config);

// Official tensor names of block `layer_idx` ("blocks.3.attn.q.weight", ...).
std::string umt5_block_tensor(int64_t layer_idx, const std::string& suffix);

}  // namespace frugal::video
