// One WanAttentionBlock of the Wan2.1 DiT over a token grid (video/dit layer):
//   m = block.modulation + e0                   [6, dim]: shift/scale/gate msa, shift/scale/gate mlp
//   x += self_attn(LN(x) * (1 + scale_msa) + shift_msa) * gate_msa     (RoPE on q, k)
//   x += cross_attn(norm3(x), context)                                  (no gate, no RoPE)
//   x += ffn(LN(x) * (1 + scale_mlp) + shift_mlp) * gate_mlp            (Linear, GELU-tanh, Linear)
// LN is LayerNorm without affine; norm3 is affine; q and k go through RMSNorm over the whole dim
// (all heads together) before being split into heads. Attention is softmax(q k^T / sqrt(head_dim)) v.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "core/thread_pool.h"
#include "ops/attention_tiled.h"
#include "ops/matmul.h"
#include "video/dit/dit_config.h"
#include "video/dit/dit_weights.h"
#include "video/dit/rope3d.h"

namespace frugal::video {

// Receives intermediates by name ("block0_q_rope", "head_out", ...; see WanDit). data is valid only
// during the call. Token-major layouts: [n_tokens, width].
using DitDebugHook = std::function<void(std::string_view name, const float* data, int64_t n)>;

// The patch grid of one forward pass: n_tokens = frames * height * width, (f, h, w) row-major.
struct DitGrid {
  int64_t frames = 0;
  int64_t height = 0;
  int64_t width = 0;
  int64_t n_tokens() const { return frames * height * width; }
};

// FFN rows are computed in chunks of this many tokens, so its [tokens, ffn_dim] hidden buffer stays
// bounded (a 480p 81-frame video has 32760 tokens: 1.2 GB of f32 hidden for the 1.3B model unchunked,
// 147 MB in chunks of 4096) while each matmul still has enough rows to use every core.
inline constexpr int64_t kFfnChunkTokens = 4096;

// Working memory of the blocks, reused across layers and calls (resized, never shrunk).
struct DitBlockScratch {
  std::vector<float> h;           // [n_tokens, dim] normalised + modulated input, then attention output
  std::vector<float> q;           // [n_tokens, dim] queries, then projected outputs
  std::vector<float> k;           // [n_tokens, dim]
  std::vector<float> v;           // [n_tokens, dim]
  std::vector<float> ffn_hidden;  // [min(n_tokens, ffn_chunk_tokens), ffn_dim]
  std::vector<float> ctx_k;       // [text_len, dim] cross-attention keys
  std::vector<float> ctx_v;       // [text_len, dim]
  std::vector<float> mod;         // [6, dim] block.modulation + e0
  MatmulScratch matmul;
  int64_t ffn_chunk_tokens = kFfnChunkTokens;  // FFN rows per chunk (> 0)
  TiledAttentionConfig attention;              // self-attention mode (dense, sliding-tile, block-sparse)
  TiledAttentionStats attention_stats;         // tile pairs attended by self-attention, accumulated
  TiledAttentionScratch tiled;

  // Sizes every buffer for a pass (allocates only when a shape grows).
  void reserve(const DitConfig& config, int64_t n_tokens);
};

// Runs block `layer_idx` in place on x. Reports intermediates through `hook` when it is non-null.
//   x:       [n_tokens, dim] the residual stream
//   e0:      [6, dim] time projection (before adding block.modulation)
//   context: [text_len, dim] text-embedded context (all text_len rows, padding included)
void run_dit_block(const DitBlockWeights& w, const DitConfig& config, int64_t layer_idx, const Rope3d& rope,
                   const DitGrid& grid, const float* e0, const float* context, float* x, DitBlockScratch& s,
                   ThreadPool& pool, const DitDebugHook* hook);

// y = W x + b (bias added in parallel over tokens).  x: [n_tokens, n_in], y: [n_tokens, n_out]
void apply_linear(const DitLinear& linear, const float* x, int64_t n_tokens, float* y, ThreadPool& pool,
                  MatmulScratch& scratch, MatmulPath path = MatmulPath::kFast);

// out[t, :] = LN(x[t, :]) * (1 + scale) + shift, LayerNorm without affine (eps).
//   x, out: [n_tokens, dim]; shift, scale: [dim]. Parallel over tokens. Shared by blocks and head.
void modulated_layer_norm(const float* x, const float* shift, const float* scale, int64_t n_tokens, int64_t dim,
                          float eps, float* out, ThreadPool& pool);

}  // namespace frugal::video
