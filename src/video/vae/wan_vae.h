// WanVae: the Wan2.1 3D causal VAE (official WanVAE_ plus the WanVAE wrapper's latent normalisation)
// on the CPU (video/vae layer). Encodes videos [3, F, H, W] in [-1, 1] to normalised latents
// [16, 1 + (F-1)/4, H/8, W/8] and decodes latents back, streaming: the decoder runs ONE latent frame
// at a time with the causal caches of the official code and hands each chunk of frames (1 for the
// first latent frame, then 4) to a sink, so the working set does not grow with the video length.
// Sizes are inferred from the official state-dict names/shapes (Wan2.1_VAE.pth). Weights are held
// and computed in f32 (WeightPrecision::kF32 only: the VAE is small next to the DiT, and its convs
// run through ops::conv3d's f32 path).
// Threading contract: one encode/decode at a time per WanVae (the causal caches and the scratch
// live in the object); each call parallelizes over the pool it is given.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/expected.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "video/vae/vae_config.h"
#include "video/weights/weight_store.h"

namespace frugal::video {

// The latent statistics of Wan2.1 (WanVAE.__init__): encode returns (mu - mean) * inv_std and decode
// takes z / inv_std + mean, with inv_std = 1 / std computed in f32.
inline constexpr int64_t kWanVaeZDim = 16;
extern const std::array<float, kWanVaeZDim> kWanVaeLatentMean;
extern const std::array<float, kWanVaeZDim> kWanVaeLatentStd;
std::array<float, kWanVaeZDim> wan_vae_inv_std();

// A dense f32 tensor [C, T, H, W] in C order.
struct VaeTensor {
  std::array<int64_t, 4> shape{};  // [C, T, H, W]
  std::vector<float> data;         // C * T * H * W
};

// Receives decoded frames [3, n_frames, H, W] (C order, unclamped), valid only during the call. A
// non-OK Status stops the decode and is returned by it.
using VaeFrameSink = std::function<Status(const float* frames, int64_t n_frames)>;

class WanVae {
 public:
  // Infers the config (vae::infer_vae_config) and loads every tensor with its expected shape:
  // kNotFound / kInvalidArgument name the missing or mis-shaped tensor. z_dim must be 16 (the
  // latent statistics are Wan2.1's).
  static Expected<WanVae> load(const WeightStore& store);
  WanVae(WanVae&&) noexcept;
  WanVae& operator=(WanVae&&) noexcept;
  ~WanVae();

  const vae::WanVaeConfig& config() const;

  // video [3, F, H, W] in [-1, 1], F >= 1, H and W multiples of 8 -> [16, 1 + (F-1)/4, H/8, W/8],
  // the normalised mean of the posterior. As the official encode, frames after the last full group
  // of 4 (after frame 0) are dropped. kInvalidArgument on a bad shape.
  Expected<VaeTensor> encode(const float* video, const std::array<int64_t, 4>& shape, ThreadPool& pool);

  // z [16, T, h, w] (normalised, T >= 1) -> 1 + 4 (T-1) frames [3, ., 8h, 8w], handed to `sink` in
  // chunks as they are decoded (1 frame, then 4 per latent frame), unclamped.
  Status decode(const float* z, const std::array<int64_t, 4>& shape, const VaeFrameSink& sink, ThreadPool& pool);
  // The same into one buffer [3, 1 + 4 (T-1), 8h, 8w] (unclamped; see clamp_unit).
  Expected<VaeTensor> decode_all(const float* z, const std::array<int64_t, 4>& shape, ThreadPool& pool);

  static std::array<int64_t, 4> encoded_shape(const std::array<int64_t, 4>& video_shape);
  static std::array<int64_t, 4> decoded_shape(const std::array<int64_t, 4>& z_shape);

  // Peak bytes of activations, causal caches and conv/matmul scratch during the last encode/decode
  // (weights excluded). For decode it does not depend on the number of latent frames.
  int64_t peak_scratch_bytes() const;

 private:
  struct State;
  explicit WanVae(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// x[i] = clamp(x[i], -1, 1), as WanVAE.decode does before returning (NaN stays NaN).
void clamp_unit(float* x, int64_t count);

}  // namespace frugal::video
