// Rope3d: Wan2.1's 3D rotary position embedding of the DiT's self-attention q and k (video/dit layer).
//
// A head of head_dim reals is c = head_dim / 2 complex pairs (x[2j], x[2j+1]) — adjacent, not
// half-split. The pairs are split into three bands, given to the frame, row and column index of the
// token: c - 2*(c/3), c/3 and c/3 pairs (real models: head_dim 128 → 22/21/21). Band k with n pairs
// rotates its pair j by pos * theta^(-2j / (2n)): each band uses its OWN width in the exponent (it is
// an independent rope_params table of width 2n, concatenated), theta = 10000. As in the official
// rope_apply, the table and the rotation are float64 and the result is cast to float32.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"

namespace frugal::video {

// The official table (WanModel.freqs) has 1024 positions per axis; a grid axis beyond it fails in
// the reference, so callers reject it (1024 latent frames or 2048 latent rows are far beyond use).
inline constexpr int64_t kMaxRopePositions = 1024;

class Rope3d {
 public:
  Rope3d() = default;
  // head_dim must be even. Builds the cos/sin tables for kMaxRopePositions positions per axis.
  explicit Rope3d(int64_t head_dim, double theta = 10000.0);

  int64_t head_dim() const { return head_dim_; }
  // Pairs given to axis 0 (frames), 1 (rows), 2 (columns).
  int64_t band_pairs(int axis) const { return band_pairs_[static_cast<size_t>(axis)]; }

  // Rotates x in place for the token grid (frames, height, width) in (f, h, w) row-major order:
  //   x: [frames * height * width, n_heads, head_dim] (row stride n_heads * head_dim)
  // Every axis must be in [1, kMaxRopePositions] (CHECK). Parallel over tokens.
  void apply(float* x, int64_t n_heads, int64_t frames, int64_t height, int64_t width, ThreadPool& pool) const;

  // One token's rotation (what apply does per token): x_tok [n_heads, head_dim].
  void apply_token(float* x_tok, int64_t n_heads, int64_t f, int64_t h, int64_t w) const;

 private:
  int64_t head_dim_ = 0;
  std::array<int64_t, 3> band_pairs_ = {0, 0, 0};
  // Per axis: [kMaxRopePositions, band_pairs] of cos / sin of pos * freq_j, float64.
  std::array<std::vector<double>, 3> cos_;
  std::array<std::vector<double>, 3> sin_;
};

}  // namespace frugal::video
