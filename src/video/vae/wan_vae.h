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
#include "video/vae/vae_memory.h"
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

// How a decode may use memory (vae_memory.h). Default: untiled, streaming.
struct VaeDecodeOptions {
  // > 0: the decode's peak (VAE weights included) must fit; the planner tiles the frame when the
  // untiled decode would not. 0: untiled.
  int64_t mem_budget_bytes = 0;
  // Explicit tiles (tests, benchmarks): overrides mem_budget_bytes when tile_h > 0.
  int64_t tile_h = 0, tile_w = 0, overlap_h = 0, overlap_w = 0;
  // Tiled decodes hand frames to the sink only after the last tile; this reports each finished tile
  // (progress, cancellation): a non-OK Status stops the decode and is returned by it.
  std::function<Status(int64_t tiles_done, int64_t tiles)> on_tile;
};

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
  // The same within a memory budget or with explicit tiles. Tiled: the frame is cut into overlapping
  // tiles of latent pixels, each decoded through the whole causal sequence with its own caches, and the
  // tiles' outputs are blended linearly across the overlaps (weights ramp from 0 to 1 over the overlap
  // and are normalised to sum to 1), then handed to the sink in the same chunks (1, 4, 4, ...).
  // kResourceExhausted when even the smallest tile does not fit the budget (nothing decoded).
  Status decode(const float* z, const std::array<int64_t, 4>& shape, const VaeFrameSink& sink, ThreadPool& pool,
                const VaeDecodeOptions& options);
  // What decode(options) would do for latents `shape`: the tiles and the model's predicted peak.
  Expected<VaeTilePlan> plan_decode(const std::array<int64_t, 4>& shape, const VaeDecodeOptions& options) const;
  // The plan of the last decode (untiled for the plain decode()).
  const VaeTilePlan& last_plan() const;
  // The same into one buffer [3, 1 + 4 (T-1), 8h, 8w] (unclamped; see clamp_unit).
  Expected<VaeTensor> decode_all(const float* z, const std::array<int64_t, 4>& shape, ThreadPool& pool,
                                 const VaeDecodeOptions& options = {});

  static std::array<int64_t, 4> encoded_shape(const std::array<int64_t, 4>& video_shape);
  static std::array<int64_t, 4> decoded_shape(const std::array<int64_t, 4>& z_shape);

  // Peak bytes of activations, causal caches and conv/matmul scratch during the last encode/decode
  // (weights and a tiled decode's output buffer excluded; the largest tile's for a tiled decode). For
  // decode it does not depend on the number of latent frames.
  int64_t peak_scratch_bytes() const;
  // The activations and causal caches alone (the part vae_decode_activation_bytes models).
  int64_t peak_activation_bytes() const;

 private:
  struct State;
  explicit WanVae(std::unique_ptr<State> state);
  // The untiled streaming decode without resetting the peak meter (decode() and each tile).
  Status decode_stream(const float* z, const std::array<int64_t, 4>& shape, const VaeFrameSink& sink);
  Status decode_tiled(const float* z, const std::array<int64_t, 4>& shape, const VaeFrameSink& sink,
                      const VaeTilePlan& plan, const VaeDecodeOptions& options);
  std::unique_ptr<State> state_;
};

// x[i] = clamp(x[i], -1, 1), as WanVAE.decode does before returning (NaN stays NaN).
void clamp_unit(float* x, int64_t count);

}  // namespace frugal::video
