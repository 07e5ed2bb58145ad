// The Wan VAE's two primitive layers (video/vae layer): RMS_norm over channels and a convolution
// that keeps the causal cache of official CausalConv3d. Weights use the official state-dict names.
//
// Causal cache: a causal conv with time padding p_t sees 2·p_t zero frames in front of the sequence.
// Run chunk by chunk, it keeps the last 2·p_t input frames it has seen (fewer at the start, the rest
// stays zero) and puts them in front of the next chunk, so any chunking gives the whole-sequence
// result (the official CACHE_T = 2 logic, including "last frame of the previous cache + a 1-frame
// chunk"). The cache is [2·p_t, C_in, H, W]: it never grows with the video length.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/expected.h"
#include "ops/conv.h"
#include "video/vae/vae_activation.h"
#include "video/weights/weight_store.h"

namespace frugal::video::vae {

// RMS_norm(dim, images): F.normalize(x, dim=channels) * sqrt(C) * gamma, i.e. per pixel
// x / max(||x[:, pixel]||_2, 1e-12) * sqrt(C) * gamma[c]; no bias. gamma is [C,1,1,1] before a conv
// (images = false) and [C,1,1] in the attention block (images = true).
class RmsNorm {
 public:
  static Expected<RmsNorm> load(const WeightStore& store, const std::string& name, int64_t channels, bool images);
  // x [C, T, H, W] in place; then SiLU when `silu`.
  void apply(Activation& x, bool silu, ThreadPool& pool) const;
  int64_t channels() const { return static_cast<int64_t>(gamma_.size()); }

 private:
  std::vector<float> gamma_;  // [C]
};

// A Conv3d / Conv2d with bias, run through ops::conv3d_frames. Causal when causal_front > 0.
class VaeConv {
 public:
  // `name` is the module prefix ("encoder.conv1"); reads name.weight and name.bias.
  // two_d: the weight is a Conv2d's [c_out, c_in, kh, kw] (params.kernel_t must be 1).
  static Expected<VaeConv> load(const WeightStore& store, const std::string& name, const Conv3dParams& params,
                                bool two_d, int64_t causal_front);

  // x [c_in, T, H, W] -> [c_out, T', H', W']. Causal: the cached frames (zeros before the start) go in
  // front of x, and the cache then holds the last causal_front frames seen.
  Activation forward(const Activation& x, VaeContext& ctx);
  // The convolution over an explicit frame list (each [c_in, h, w]); no cache.
  Activation forward_frames(const std::vector<ConvFrame>& frames, int64_t h, int64_t w, VaeContext& ctx) const;
  // Forgets the cached frames (start of a new sequence) and frees them.
  void reset();

  const Conv3dParams& params() const { return params_; }

 private:
  void update_cache(const Activation& x, VaeContext& ctx);

  Conv3dParams params_;
  MatrixWeight weight_;        // [c_out, c_in * kt * kh * kw] f32
  // The weight packed for the bf16 tile path (ops/conv.h), made at the first forward that runs in a
  // tile mode (so a stage that never decodes does not hold it). Mutable: forward_frames is const,
  // and a context runs one call at a time (vae_activation.h), so the lazy packing is not shared.
  mutable ConvTileWeights tiles_;
  std::vector<float> bias_;    // [c_out]
  int64_t causal_front_ = 0;   // zero frames in front of the sequence (2 * p_t)
  Activation cache_;           // [causal_front, c_in, H, W] as frames; the first n_cached_ are valid
  int64_t n_cached_ = 0;
};

// Conv geometry helpers: k x k x k (or 1 x k x k) with the same stride 1 and symmetric padding.
Conv3dParams conv_params(int64_t c_in, int64_t c_out, int64_t kt, int64_t ks, int64_t pad);

}  // namespace frugal::video::vae
