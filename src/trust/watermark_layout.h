// Where each payload bit lives (trust layer): the keyed chip layout of the luma watermark.
//
// A frame is cut into a grid × grid lattice of cells in *relative* coordinates (cell (row, col)
// covers [col/grid, (col+1)/grid) of the width and [row/grid, (row+1)/grid) of the height), so a
// rescaled frame keeps its cells. Every cell carries one payload bit with a keyed ±1 chip: the
// embedder adds +strength to the cell's luma where chip · (2·bit − 1) = +1 and −strength where it is
// −1. A keyed permutation gives each bit grid²/64 cells scattered over the frame (no bit dies with
// one corner of the picture). Chips and permutation come from HMAC-SHA256(key, label ‖ counter), so
// without the key they are independent fair coin flips: that independence is what the detector's
// false-positive bound rests on (docs/design/trust-watermark.md).
#pragma once

#include <cstdint>
#include <vector>

#include "trust/watermark_key.h"

namespace frugal::trust {

inline constexpr int kWatermarkBits = 64;
// The lattices used: 32 × 32 cells (16 per bit) for frames at least 256 pixels on their short side,
// 16 × 16 (4 per bit) below (WatermarkEmbedOptions::grid can pick either where cells keep 2 pixels).
// The detector tries the lattices a picture of its size can carry, so it needs no side information.
// No coarser lattice: with c cells per bit each |z_i| ≤ sqrt(c), so T ≤ 64·c, and the blind test's
// threshold (~146 at k = 64) needs c ≥ 3; 8 × 8 (c = 1) would make T ≡ 64 whatever the picture.
inline constexpr int kWatermarkGrids[] = {16, 32};
// Frames smaller than this on either side cannot hold the 16 × 16 lattice at 2 pixels per cell.
inline constexpr int kWatermarkMinSide = 32;

struct WatermarkLayout {
  int grid = 0;
  std::vector<int8_t> chip;   // [grid * grid] ±1, row-major cells
  std::vector<uint8_t> bit;   // [grid * grid] the payload bit of each cell, 0..63 (bit 0 = payload bit 63)
};

// Pixels [*lo, *hi) of cell `index` (0..grid-1) along a side of `size` pixels.
inline void watermark_cell_span(int index, int grid, int size, int* lo, int* hi) {
  *lo = static_cast<int>(static_cast<int64_t>(index) * size / grid);
  *hi = static_cast<int>(static_cast<int64_t>(index + 1) * size / grid);
}

// BT.709 luma of an RGB8 pixel, in 8-bit levels (the weights sum to 1: equal R, G, B changes move it 1:1).
inline float watermark_luma(const uint8_t* rgb) { return 0.2126f * rgb[0] + 0.7152f * rgb[1] + 0.0722f * rgb[2]; }

WatermarkLayout make_watermark_layout(const WatermarkKey& key, int grid);
// The lattice the embedder uses for a width × height frame by default.
int watermark_grid_for(int width, int height);
// Whether a picture of this size is searched for the `grid` lattice (a function of the size only):
// the 32 lattice from a short side of 128 (a 0.5x copy of the smallest frame that carries it by
// default), the 16 lattice always.
bool watermark_grid_searched(int grid, int width, int height);

}  // namespace frugal::trust
