// WanDit: the forward pass of the Wan2.1 text-to-video diffusion transformer (`WanModel`, t2v)
// on f32 activations (video/dit layer). One call predicts the flow velocity for one latent video at
// one timestep, exactly as WanModel([x], t=[timestep], [context], seq_len)[0]:
//   patchify (Conv3d, kernel = stride = patch) → tokens in (f, h, w) order        [L, dim]
//   e = time_embedding(sinusoid(t)),  e0 = time_projection(e)                      [dim], [6, dim]
//   context zero-padded to text_len rows → text_embedding                          [text_len, dim]
//   num_layers WanAttentionBlocks (dit_block.h)                                     [L, dim]
//   head: Linear(LN(x) * (1 + scale) + shift), (shift, scale) = head.modulation + e  [L, pt*ph*pw*out_dim]
//   unpatchify, channels ordered (pt, ph, pw, c)                                     [out_dim, T, H, W]
//
// Sequence padding: the reference zero-pads the tokens to seq_len (a multiple of the sequence-parallel
// degree), computes the padded query rows, masks the padded keys with k_lens and drops the padded
// rows. A real token's output never depends on a padded row (keys masked; everything else is per
// token), so this engine runs the unpadded sequence: it equals the padded result up to float
// rounding (the README measures 4e-7 between the reference's padded and unpadded runs; this
// engine against dit_b's `_seqpad` outputs: 6e-7 of max|out|, tested at 1e-6).
//
// Threading contract: one forward at a time per WanDit (the scratch buffers are members); the
// ThreadPool parallelises inside each call. Run two WanDits, or serialise, for concurrent requests.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/check.h"
#include "core/expected.h"
#include "core/thread_pool.h"
#include "video/dit/dit_block.h"
#include "video/dit/dit_config.h"
#include "video/dit/dit_weights.h"
#include "video/dit/rope3d.h"
#include "video/dit/step_cache.h"
#include "video/weights/weight_store.h"

namespace frugal::video {

class WanDit {
 public:
  // Validates the config, checks every tensor of the store against it (a Status naming the first
  // missing or misshapen tensor) and loads the weights at `precision` (see dit_weights.h).
  static Expected<WanDit> load(const WeightStore& store, const DitConfig& config, WeightPrecision precision);

  WanDit(WanDit&&) noexcept = default;
  WanDit& operator=(WanDit&&) noexcept = default;

  const DitConfig& config() const { return config_; }

  // Intermediates, reported during forward calls when set (empty: none, free). Names, all f32:
  //   "time_embed_e" [dim], "time_proj_e0" [6, dim], "text_embed" [text_len, dim] (embed_context),
  //   "patch_embed" [L, dim] (token-major: the reference's [dim, F, H', W'] transposed),
  //   "block{i}_q_normed", "_k_normed", "_v", "_q_rope", "_k_rope", "_self_attn" (before the gate),
  //   "_cross_attn", "_ffn" (before the gate), "_out" — each [L, dim] —, "head_out" [L, pt*ph*pw*out_dim].
  void set_debug_hook(DitDebugHook hook) { hook_ = std::move(hook); }

  // FFN rows per chunk (default kFfnChunkTokens): bounds the [chunk, ffn_dim] hidden buffer. Smaller
  // saves memory, larger gives the matmuls more rows. The result does not depend on it beyond float
  // rounding. CHECKs tokens > 0.
  void set_ffn_chunk_tokens(int64_t tokens) {
    CHECK(tokens > 0, "set_ffn_chunk_tokens: must be positive");
    block_scratch_.ffn_chunk_tokens = tokens;
  }

  // Self-attention mode of every block (ops/attention_tiled.h); the config must be valid (CHECKed).
  void set_attention(const TiledAttentionConfig& config) {
    CHECK(validate_tiled_attention(config).is_ok(), "set_attention: invalid config");
    block_scratch_.attention = config;
  }
  const TiledAttentionConfig& attention() const { return block_scratch_.attention; }
  // Tile pairs attended by self-attention since load (sum over layers, heads and passes).
  const TiledAttentionStats& attention_stats() const { return block_scratch_.attention_stats; }

  // Rows of an embedded context: embedded_context_size() = text_len * dim floats.
  int64_t embedded_context_size() const { return config_.text_len * config_.dim; }

  // The text embedding of one context, which does not depend on the timestep: a sampler computes it
  // once per prompt (twice with CFG) and passes it to every forward_embedded step.
  //   context:  [ctx_len, text_dim], 0 <= ctx_len <= text_len (zero-padded to text_len rows here)
  //   embedded: [text_len, dim]
  Status embed_context(const float* context, int64_t ctx_len, float* embedded, ThreadPool& pool);

  // One forward pass on an embedded context.
  //   x:        [in_dim, frames, height, width] latent video; frames % pt == 0, height % ph == 0,
  //             width % pw == 0 (H and W even for the released models); each patch-grid axis
  //             <= kMaxRopePositions
  //   context_embedded: [text_len, dim] from embed_context
  //   timestep: t as the model sees it (float: samplers may pass non-integer t), finite
  //   out:      [out_dim, frames, height, width]
  //   cache:    step caching (step_cache.h) of this forward sequence, or null (always run the
  //             blocks); force_compute runs them whatever the cache decides (e.g. the last step)
  // Returns kInvalidArgument for bad sizes or timestep. A second call with the same shapes
  // allocates no new buffers of its own.
  Status forward_embedded(const float* x, int64_t frames, int64_t height, int64_t width, const float* context_embedded,
                          float timestep, float* out, ThreadPool& pool, StepCacheStream* cache = nullptr,
                          bool force_compute = false);

  // embed_context into an internal buffer, then forward_embedded.
  //   context: [ctx_len, text_dim], ctx_len <= text_len (kInvalidArgument otherwise)
  Status forward(const float* x, int64_t frames, int64_t height, int64_t width, const float* context, int64_t ctx_len,
                 float timestep, float* out, ThreadPool& pool);

 private:
  WanDit() = default;
  Expected<DitGrid> check_input(int64_t frames, int64_t height, int64_t width, float timestep) const;
  void reserve(const DitGrid& grid);
  void embed_time(double timestep, ThreadPool& pool);                     // → e_, e0_
  void patchify(const float* x, const DitGrid& grid, ThreadPool& pool);   // → x_
  void run_head(const DitGrid& grid, float* out, ThreadPool& pool);       // x_ → out
  // Step caching: block 0's modulated input of x_, handed to the cache's decision.
  bool cache_skips(const DitGrid& grid, StepCacheStream& cache, bool force_compute, float timestep, ThreadPool& pool);
  void report(const char* name, const float* data, int64_t n) const;

  DitConfig config_;
  DitWeights weights_;
  Rope3d rope_;
  DitDebugHook hook_;

  // Scratch, reused across calls (sized by reserve, never shrunk).
  DitBlockScratch block_scratch_;
  std::vector<float> x_;             // [L, dim] residual stream
  std::vector<float> patches_;       // [L, in_dim * pt * ph * pw]
  std::vector<float> head_out_;      // [L, pt * ph * pw * out_dim]
  std::vector<float> ctx_padded_;    // [text_len, text_dim]
  std::vector<float> ctx_hidden_;    // [text_len, dim]
  std::vector<float> ctx_embedded_;  // [text_len, dim] forward()'s embedded context
  std::vector<float> sinusoid_;      // [freq_dim]
  std::vector<float> time_hidden_;   // [dim]
  std::vector<float> e_;             // [dim] time embedding (the head's modulation input)
  std::vector<float> e_silu_;        // [dim] silu(e)
  std::vector<float> e0_;            // [6, dim] time projection (the blocks' modulation input)
  std::vector<float> head_mod_;      // [2, dim] head.modulation + e: shift, scale
};

}  // namespace frugal::video
