// Embeds the 64-bit payload in the luma of RGB8 frames (trust layer), before they are encoded.
//
// Every frame gets the same keyed cell pattern (watermark_layout.h): cell c's pixels move by
// ±a_c in R, G and B alike, which moves BT.709 luma by exactly ±a_c and leaves chroma alone. Cells
// do not meet at hard edges (a patchwork of ±steps is what the eye finds on smooth content): the
// outer quarter of each cell cross-fades into its neighbour with a raised cosine (the weights of the
// two cells sum to 1, so equal neighbours join seamlessly and opposite ones ramp over half a cell).
// The detector reads each cell's middle 3/4, where the cell's own weight is over 0.98. The
// amplitude is perceptual: a_c = strength · g_c with g_c from the cell's luma texture (busy cells,
// where a change hides, get up to 2×; flat ones down to 0.5×), normalised so the mean of g_c² over
// the frame is 1 — the mean squared change stays strength², i.e. PSNR ≈ 20·log10(255 / strength)
// (41.3 dB at the default 2.2, before rounding to 8 bits and clipping at 0 / 255 lower it further).
// On frames with no edges or texture the activity mask keeps every cell under about 3/4 of a
// level instead (WatermarkEmbedOptions::activity_mask; ~47 dB there).
// The pattern is static over time, so H.264 carries it in its I-frames and cheap skip blocks, and
// the detector averages it up over frames while moving content averages out.
// Threading: one thread per embedder; embedders are independent.
#pragma once

#include <cstdint>
#include <span>

#include "core/expected.h"
#include "trust/watermark_cells.h"
#include "trust/watermark_key.h"
#include "trust/watermark_layout.h"

namespace frugal::trust {

struct WatermarkEmbedOptions {
  // RMS luma change in 8-bit levels (see the header comment for the PSNR it gives).
  double strength = 2.2;
  // Activity mask, on by default: on the 32 × 32 lattice, in frames with (almost) no texture (under
  // 5 % of cells with σ ≥ 4 levels: smooth gradients, sky), no cell moves more than
  // mask_flat·L + 0.5·σ levels (σ: its luma standard deviation; L ≥ 1: Chou–Li background-luminance
  // masking, capped at luminance_masking). Frames with edges or texture keep the unmasked mark: there
  // the mask was measured to cost the robustness bars (docs/PERFORMANCE.md). false: never masked.
  bool activity_mask = true;
  // Tuning of the mask (benchmarks: scripts/watermark-bench --embed-args): how far above the
  // unmasked amplitude the budget flat cells give up may lift the others (1: not re-spent), and the
  // most that background luminance may raise a cell's limit (1: no luminance masking).
  double mask_boost = 1.0;
  double luminance_masking = 1.0;
  // A flat cell's limit at mid grey, in levels (the mask's kJndFlat; 0.5·σ is added for texture).
  double mask_flat = 0.75;
  // The lattice: 0 = watermark_grid_for(width, height); else 16 or 32 (watermark_layout.h).
  int grid = 0;
  // On masked frames, lift the cells of bits predicted weak after CRF 28 + 0.5x (their target and
  // limit, up to max_lift times; WatermarkEmbedder::lift_weak_bits). Off by default: it reads every
  // key on the bench's gradients after CRF 28 + 0.5x, but the lifted cells are visible patches at 4x
  // zoom (docs/PERFORMANCE.md). false: every flat cell capped alike.
  bool lift_weak_bits = false;
  // A bit is weak when its predicted z after that attack is under weak_bit_z; its cells' target and
  // limit rise by 1.25x per round (4 rounds) up to max_lift.
  double weak_bit_z = 2.0;
  double max_lift = 2.0;
};

class WatermarkEmbedder {
 public:
  // kInvalidArgument when a side is below kWatermarkMinSide, strength is not in (0, 16] or the
  // grid is not one of kWatermarkGrids (or leaves cells under 2 pixels).
  static Expected<WatermarkEmbedder> create(const WatermarkKey& key, uint64_t payload, int width, int height,
                                            const WatermarkEmbedOptions& options = {});
  // Marks one frame in place: rgb [height, width, 3] (CHECKed size).
  void embed_frame(std::span<uint8_t> rgb);

  int width() const { return width_; }
  int height() const { return height_; }
  uint64_t payload() const { return payload_; }
  int grid() const { return layout_.grid; }

 private:
  WatermarkEmbedder() = default;
  void texture_gains(const LumaIntegral& luma);
  void solve_changes(double amplitude, bool masked = false);
  void lift_weak_bits(double amplitude);
  double spend_budget(bool masked, double max_amplitude);
  double mean_square_change() const;
  void apply_changes(std::span<uint8_t> rgb) const;

  int width_ = 0, height_ = 0;
  uint64_t payload_ = 0;
  WatermarkEmbedOptions options_;
  WatermarkLayout layout_;
  std::vector<int8_t> sign_;   // [grid²] chip · (2·bit − 1): the direction of each cell's change
  std::vector<float> luma_;    // [height, width] scratch
  std::vector<double> gain_;           // [grid²] perceptual gain, mean square 1
  double busy_share_ = 0;              // share of cells with σ ≥ 4 levels in the current frame
  std::vector<double> limit_;          // [grid²] the most a cell may move (activity masking), levels
  std::vector<double> lift_;           // [grid²] masked frames: factor on a weak bit's cells' target and limit (≥ 1)
  std::vector<double> host_residual_;  // [grid²] the detector's residual of the unmarked frame
  std::vector<double> change_;         // [grid²] luma change per cell, in levels
  // The cross-fade along each axis (x: width entries, y: height entries): a pixel coordinate's
  // own cell, the neighbour it blends with (−1: none) and its own weight in (0.5, 1].
  struct Axis {
    std::vector<int> cell, other;
    std::vector<float> weight;
    std::vector<double> gram_self, gram_next;  // [grid]: Σ w_c², Σ w_c·w_{c+1} over the axis
  };
  static Axis make_axis(int grid, int size);
  Axis axis_x_, axis_y_;
};

}  // namespace frugal::trust
