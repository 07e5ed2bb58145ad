// The memory model of the Wan VAE decode and the tile planner that keeps a decode within a budget
// (video/vae layer).
//
// Model. The streaming decoder runs one latent frame at a time; every activation and causal cache it
// holds is [C, T, h·2^l, w·2^l] at decoder level l, so its working set is exactly
//     activation_bytes(h, w) = 4 · h · w · Σ (channels × frames × 4^level) over what is live at the peak
// for a latent tile of h × w pixels: the causal caches of every conv (2 frames of its input width at
// its level) plus the largest transient of one block on a non-first chunk (1 latent frame → 1, 2, 4,
// 4 frames at levels 0..3). vae_decode_activation_bytes walks the decoder the way CausalCoder lays it
// out and counts those floats; tests compare it with the decoder's own MemoryMeter. On top:
//   slack          the activations count kVaeActivationSlack times (measured RSS vs the meter)
//   weights        every tensor of the VAE in f32 (encoder included: WanVae::load holds both halves),
//                  plus the decode convolutions' packed bf16 copies on the AMX tile path (ops/conv.h)
//   scratch        im2col/matmul buffers, bounded by ops::conv's band budget (a constant allowance)
//   process        the binary, libraries and allocator slack (a constant allowance)
//   output buffer  tiled decodes only: the blended frames [3, F, H, W] f32 — a pixel of the output
//                  is final only when every tile covering it is done, and each tile runs the whole
//                  causal sequence (its own caches), so the frames are held until the last tile.
// Planner. With no budget (0) the decode is untiled. With a budget it stays untiled when the model
// says the whole frame fits; otherwise, among the tiles (h × w latent pixels, overlap a quarter of
// each tiled side, at least kVaeMinTileSide) that fit, it takes the largest whose decoded area
// (tiles × tile area: the overlap is decoded twice) is within 15 % of the least, and refuses with a
// message naming the smallest tile's need when even that does not fit.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/expected.h"
#include "video/vae/vae_config.h"

namespace frugal::video {

// The smallest tile side the planner uses, in latent pixels (64 output pixels): below it the
// overlap (a quarter of the side) is under 2 latent pixels and seams grow.
inline constexpr int64_t kVaeMinTileSide = 8;
// Allowances for what the activation model does not count (see above); measured on the real-width
// VAE in docs/PERFORMANCE.md's video section.
inline constexpr int64_t kVaeScratchAllowanceBytes = int64_t{64} << 20;
inline constexpr int64_t kVaeProcessAllowanceBytes = int64_t{96} << 20;
// The whole-decode prediction counts the activations at this many times the meter-exact model: the
// process's peak RSS grew 0.932 MiB per latent pixel between two measured sizes of the release VAE
// against the model's 0.862 (allocator slack on the smaller blocks), so the planner keeps a margin.
inline constexpr double kVaeActivationSlack = 1.10;

// Activations and causal caches at the decoder's peak for a latent tile [16, frames, h, w]
// (frames >= 2 reaches the steady state; 1 is the first chunk only), in bytes.
int64_t vae_decode_activation_bytes(const vae::WanVaeConfig& config, int64_t h, int64_t w, int64_t frames);
// Every VAE tensor in f32, plus the decode convolutions' packed bf16 copies where the tile path is in
// effect (ops/conv.h: conv_tile_mode_in_effect(); 4 bytes per weight for x3, 2 for x1 / x2), in bytes.
int64_t vae_weight_bytes(const vae::WanVaeConfig& config);

// How a decode of latents [16, T, h, w] is cut into spatial tiles (all in latent pixels).
struct VaeTilePlan {
  bool tiled = false;
  int64_t tile_h = 0, tile_w = 0;        // = h, w when untiled
  int64_t overlap_h = 0, overlap_w = 0;  // between neighbouring tiles
  int64_t tiles_y = 1, tiles_x = 1;
  // The model's prediction of the decode's peak: weights + activations + allowances (+ the output
  // buffer when tiled), bytes.
  int64_t predicted_bytes = 0;
  int64_t tiles() const { return tiles_y * tiles_x; }
  std::string to_string() const;  // "untiled" or "3x4 tiles of 32x40 latent (256x320 px, HxW), overlap 8x10"
};

// Tile starts along one axis of `length`: `count` tiles of `tile` (<= length) spread evenly from 0 to
// length - tile, so neighbours overlap by at least `overlap`. count = 1 when tile >= length.
int64_t vae_tile_count(int64_t length, int64_t tile, int64_t overlap);
int64_t vae_tile_start(int64_t length, int64_t tile, int64_t count, int64_t index);

// The model's whole-decode prediction for the given tiling of latents `shape` [16, T, h, w].
int64_t vae_predicted_decode_bytes(const vae::WanVaeConfig& config, const std::array<int64_t, 4>& shape, bool tiled,
                                   int64_t tile_h, int64_t tile_w);
// A plan with explicit tiles (tile sides are clamped to the latent; overlap < tile side).
VaeTilePlan vae_fixed_tile_plan(const vae::WanVaeConfig& config, const std::array<int64_t, 4>& shape, int64_t tile_h,
                                int64_t tile_w, int64_t overlap_h, int64_t overlap_w);
// The planner above. budget_bytes 0: untiled. kResourceExhausted when nothing fits, with the need.
Expected<VaeTilePlan> plan_vae_decode(const vae::WanVaeConfig& config, const std::array<int64_t, 4>& shape,
                                      int64_t budget_bytes);

// "4GiB", "4 GiB", "512MiB", "4G", "1.5GB", "4294967296" -> bytes (binary units: K/M/G/T, with or without
// "i" and "B"; a bare number is bytes). kInvalidArgument naming the text when malformed or not positive.
Expected<int64_t> parse_memory_size(const std::string& text);
// 4294967296 -> "4.00 GiB"
std::string format_memory_size(int64_t bytes);

}  // namespace frugal::video
