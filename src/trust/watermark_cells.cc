#include "trust/watermark_cells.h"

#include <algorithm>
#include <cmath>

namespace frugal::trust {
namespace {

// The part of a cell left out at each edge when averaging (see watermark_cell_middle).
constexpr double kCellMargin = 0.125;

}  // namespace

LumaIntegral::LumaIntegral(std::span<const float> luma, int width, int height)
    : width_(width), height_(height), sum_(static_cast<size_t>(width + 1) * (height + 1), 0.0) {
  for (int y = 0; y < height; ++y) {
    double row = 0;
    for (int x = 0; x < width; ++x) {
      row += luma[static_cast<size_t>(y) * width + x];
      sum_[static_cast<size_t>(y + 1) * (width + 1) + x + 1] = sum_[static_cast<size_t>(y) * (width + 1) + x + 1] + row;
    }
  }
}

double LumaIntegral::rect_sum(int x0, int y0, int x1, int y1) const {
  const auto at = [&](int x, int y) { return sum_[static_cast<size_t>(y) * (width_ + 1) + x]; };
  return at(x1, y1) - at(x0, y1) - at(x1, y0) + at(x0, y0);
}

bool watermark_cell_middle(int index, int grid, double origin, double scale, int size, int* lo, int* hi) {
  const double a = ((index + kCellMargin) / grid - origin) / scale * size;
  const double b = ((index + 1 - kCellMargin) / grid - origin) / scale * size;
  if (a < -0.5 || b > size + 0.5) return false;
  *lo = std::clamp(static_cast<int>(std::lround(a)), 0, size - 1);
  *hi = std::clamp(static_cast<int>(std::lround(b)), *lo + 1, size);
  return true;
}

void watermark_cell_means(const LumaIntegral& luma, int grid, const WatermarkWindow& window, std::vector<double>& mean,
                          std::vector<uint8_t>& seen) {
  const size_t cells = static_cast<size_t>(grid) * grid;
  mean.assign(cells, 0.0);
  seen.assign(cells, 0);
  for (int row = 0; row < grid; ++row) {
    int y0, y1;
    if (!watermark_cell_middle(row, grid, window.y, window.scale, luma.height(), &y0, &y1)) continue;
    for (int col = 0; col < grid; ++col) {
      int x0, x1;
      if (!watermark_cell_middle(col, grid, window.x, window.scale, luma.width(), &x0, &x1)) continue;
      const size_t cell = static_cast<size_t>(row) * grid + col;
      mean[cell] = luma.rect_sum(x0, y0, x1, y1) / ((x1 - x0) * (y1 - y0));
      seen[cell] = 1;
    }
  }
}

void watermark_cell_residuals(std::span<const double> mean, int grid, std::vector<uint8_t>& seen,
                              std::vector<double>& residual) {
  const size_t cells = static_cast<size_t>(grid) * grid;
  residual.assign(cells, 0.0);
  std::vector<uint8_t> had(seen.begin(), seen.end());  // neighbours count as seen before this pass drops any
  for (int row = 0; row < grid; ++row) {
    for (int col = 0; col < grid; ++col) {
      const size_t cell = static_cast<size_t>(row) * grid + col;
      if (!had[cell]) continue;
      double sum = 0;
      int n = 0;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const int r = row + dy, c = col + dx;
          if ((dy == 0 && dx == 0) || r < 0 || c < 0 || r >= grid || c >= grid) continue;
          const size_t other = static_cast<size_t>(r) * grid + c;
          if (!had[other]) continue;
          sum += mean[other];
          ++n;
        }
      }
      if (n == 0) {
        seen[cell] = 0;
        continue;
      }
      residual[cell] = mean[cell] - sum / n;
    }
  }
}

}  // namespace frugal::trust
