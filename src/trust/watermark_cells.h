// The cell statistics shared by the embedder and the detector (trust layer): where a cell's
// pixels are under an alignment, each cell's mean luma, and the neighbour-whitened residual the
// bits are read from. The embedder runs the detector's exact arithmetic on the unmarked frame to
// see what the picture itself already says in each cell (informed embedding).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace frugal::trust {

// An alignment: the picture shows the window [x, x + scale) × [y, y + scale) of the marked frame,
// in the marked frame's relative coordinates. The identity is {1, 0, 0}.
struct WatermarkWindow {
  double scale = 1, x = 0, y = 0;
};

// Summed-area table of a luma picture: [height + 1, width + 1].
class LumaIntegral {
 public:
  LumaIntegral(std::span<const float> luma, int width, int height);  // luma [height, width]
  double rect_sum(int x0, int y0, int x1, int y1) const;           // pixels [x0, x1) × [y0, y1)
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  int width_, height_;
  std::vector<double> sum_;
};

// Pixel range [*lo, *hi) of the middle of cell `index` of a `grid` lattice along a side of `size`
// pixels under the window (origin, scale) on that axis; false when it is not wholly in view. The
// middle leaves 1/8 cell out at each edge, so an alignment off by up to 1/8 cell (half the
// detector's search step) still averages only the cell's own pixels.
bool watermark_cell_middle(int index, int grid, double origin, double scale, int size, int* lo, int* hi);

// Cell means [grid²] of the middles under `window`; seen[c] = 0 where the cell is out of view.
void watermark_cell_means(const LumaIntegral& luma, int grid, const WatermarkWindow& window, std::vector<double>& mean,
                          std::vector<uint8_t>& seen);
// residual[c] = mean[c] − the mean of its seen 8-neighbours (0 and unseen where it has none): the
// picture's smooth part cancels, a cell's own offset stays. [grid²].
void watermark_cell_residuals(std::span<const double> mean, int grid, std::vector<uint8_t>& seen,
                              std::vector<double>& residual);

}  // namespace frugal::trust
