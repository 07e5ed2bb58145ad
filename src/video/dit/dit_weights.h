// DitWeights: the tensors of a Wan2.1 DiT loaded for the forward pass (video/dit layer). Matrices are
// MatrixWeights for ops::matmul; biases, norm weights and modulations are f32.
//
// Memory: each matrix holds one copy (weight_store.h): the packed layout for the blocks' and
// embeddings' matmuls, the stored bytes for the time path (reference matmul).
//
// Precision: `WeightPrecision` applies to the patch/text embeddings and the blocks (>99% of the
// weights). The time embedding/projection keep the stored type but are multiplied with f32
// activations on the reference path (one token per forward: free), and the head is always f32
// (dim x 64: tiny): the official code runs exactly these under autocast(float32) even on the bf16
// GPU path, so an accuracy loss there would be ours alone.
#pragma once

#include <vector>

#include "core/expected.h"
#include "video/dit/dit_config.h"
#include "video/weights/weight_store.h"

namespace frugal::video {

// y = W x + b.
struct DitLinear {
  MatrixWeight weight;     // [n_out, n_in]
  std::vector<float> bias;  // [n_out]
};

struct DitAttentionWeights {
  DitLinear q, k, v, o;          // [dim, dim] each
  std::vector<float> norm_q;     // [dim] RMSNorm over the whole dim; empty without qk_norm
  std::vector<float> norm_k;     // [dim]
};

struct DitBlockWeights {
  DitAttentionWeights self_attn;
  DitAttentionWeights cross_attn;
  std::vector<float> norm3_weight;  // [dim] affine LayerNorm before cross-attention; empty without cross_attn_norm
  std::vector<float> norm3_bias;    // [dim]
  DitLinear ffn_in;                 // [ffn_dim, dim]
  DitLinear ffn_out;                // [dim, ffn_dim]
  std::vector<float> modulation;    // [6, dim]: shift/scale/gate of msa, then of mlp
};

struct DitWeights {
  DitLinear patch_embedding;  // [dim, in_dim * pt * ph * pw]: the Conv3d as a matmul over (c, kt, kh, kw)
  DitLinear text_in;          // [dim, text_dim]  text_embedding.0
  DitLinear text_out;         // [dim, dim]       text_embedding.2
  DitLinear time_in;          // [dim, freq_dim]  time_embedding.0 (reference-path matmul)
  DitLinear time_out;         // [dim, dim]       time_embedding.2 (reference-path matmul)
  DitLinear time_projection;  // [6 * dim, dim]   time_projection.1 (reference-path matmul)
  std::vector<DitBlockWeights> blocks;  // [num_layers]
  DitLinear head;                       // [pt * ph * pw * out_dim, dim], always f32
  std::vector<float> head_modulation;   // [2, dim]: shift, scale
};

// Checks the store against the config (check_dit_store: a Status naming the first missing or
// misshapen tensor), then loads every tensor.
Expected<DitWeights> load_dit_weights(const WeightStore& store, const DitConfig& config, WeightPrecision precision);

}  // namespace frugal::video
