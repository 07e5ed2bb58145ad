// Plain value types shared by the media room's readers and writers (media layer). No libav here.
#pragma once

#include <cstdint>
#include <vector>

namespace frugal::media {

// Frames per second as a rational, num / den (Wan2.1 writes 16 fps; NTSC would be 30000 / 1001).
struct FrameRate {
  int num = 16;
  int den = 1;

  double per_second() const { return den == 0 ? 0.0 : static_cast<double>(num) / den; }
};

// One 8-bit RGB picture.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // [height, width, 3], R G B, rows top to bottom, no padding
};

}  // namespace frugal::media
