// Largest connected component by flood fill with an explicit stack (no recursion depth limits).
#include "video/eval/frame_blobs.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace frugal::video {
namespace {

struct Accumulator {
  Blob blob;
  double sum_x = 0, sum_y = 0;

  void add(int row, int col) {
    if (blob.area == 0) {
      blob.min_col = blob.max_col = col;
      blob.min_row = blob.max_row = row;
    }
    ++blob.area;
    blob.min_col = std::min(blob.min_col, col);
    blob.max_col = std::max(blob.max_col, col);
    blob.min_row = std::min(blob.min_row, row);
    blob.max_row = std::max(blob.max_row, row);
    sum_x += col + 0.5;
    sum_y += row + 0.5;
  }
};

// Labels the component containing (row, col) with `label` in labels [H, W]; returns its measurements.
Accumulator flood(std::span<const uint8_t> mask, int height, int width, int row0, int col0, int label,
                  std::vector<int>& labels, std::vector<int>& stack) {
  Accumulator acc;
  stack.clear();
  stack.push_back(row0 * width + col0);
  labels[row0 * width + col0] = label;
  while (!stack.empty()) {
    const int idx = stack.back();
    stack.pop_back();
    const int row = idx / width, col = idx % width;
    acc.add(row, col);
    for (int dr = -1; dr <= 1; ++dr) {
      for (int dc = -1; dc <= 1; ++dc) {
        const int r = row + dr, c = col + dc;
        if (r < 0 || r >= height || c < 0 || c >= width) continue;
        const int n = r * width + c;
        if (mask[n] == 0 || labels[n] != 0) continue;
        labels[n] = label;
        stack.push_back(n);
      }
    }
  }
  return acc;
}

}  // namespace

double Blob::fill_ratio() const {
  if (area == 0) return 0.0;
  return static_cast<double>(area) / (static_cast<double>(box_width()) * box_height());
}

Blob largest_blob(std::span<const uint8_t> mask, int height, int width, std::vector<uint8_t>* members) {
  CHECK(mask.size() == static_cast<size_t>(height) * width, "largest_blob: mask size");
  std::vector<int> labels(mask.size(), 0);  // [H, W]: 0 = unvisited, k = component k
  std::vector<int> stack;
  Accumulator best;
  int best_label = 0, next_label = 0;
  for (int row = 0; row < height; ++row) {
    for (int col = 0; col < width; ++col) {
      const int idx = row * width + col;
      if (mask[idx] == 0 || labels[idx] != 0) continue;
      Accumulator acc = flood(mask, height, width, row, col, ++next_label, labels, stack);
      if (acc.blob.area > best.blob.area) {
        best = acc;
        best_label = next_label;
      }
    }
  }
  Blob blob = best.blob;
  if (blob.area > 0) {
    blob.centroid_x = best.sum_x / blob.area;
    blob.centroid_y = best.sum_y / blob.area;
    blob.touches_edge = blob.min_col == 0 || blob.min_row == 0 || blob.max_col == width - 1 || blob.max_row == height - 1;
  }
  if (members != nullptr) {
    members->assign(mask.size(), 0);
    for (size_t i = 0; i < labels.size(); ++i) (*members)[i] = labels[i] == best_label && best_label != 0 ? 1 : 0;
  }
  return blob;
}

}  // namespace frugal::video
