// Connected components of a binary mask and the measurements the judge takes of one (video/eval
// layer): area, bounding box, centroid, fill ratio of the box.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace frugal::video {

struct Blob {
  int64_t area = 0;  // pixels; 0 = no blob
  int min_col = 0, max_col = -1, min_row = 0, max_row = -1;  // inclusive bounding box
  double centroid_x = 0, centroid_y = 0;  // pixel centres at col + 0.5, row + 0.5
  bool touches_edge = false;              // the box reaches the frame's first or last row / column

  int box_width() const { return max_col - min_col + 1; }
  int box_height() const { return max_row - min_row + 1; }
  // area / box area: 1 for a square, pi/4 for a disc, 1/2 for a triangle with a box-wide base.
  double fill_ratio() const;
};

// The largest 8-connected component of mask [height, width] (nonzero = set); ties go to the one
// met first in row-major order. When members is non-null it is resized to [height, width] and set
// to 1 on the blob's pixels, 0 elsewhere. A mask with nothing set gives area 0.
// Precondition (CHECKed): mask.size() == height * width.
Blob largest_blob(std::span<const uint8_t> mask, int height, int width, std::vector<uint8_t>* members = nullptr);

}  // namespace frugal::video
