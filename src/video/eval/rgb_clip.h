// RgbClip: a short clip as interleaved 8-bit RGB frames, the evaluator's common currency
// (video/eval layer): what media::read_mp4 decodes, what the reference renderer draws, what the
// judge reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace frugal::video {

struct RgbClip {
  int num_frames = 0;
  int height = 0;
  int width = 0;
  std::vector<uint8_t> pixels;  // [num_frames, height, width, 3], R G B, rows top to bottom

  size_t frame_bytes() const { return static_cast<size_t>(height) * width * 3; }
  const uint8_t* frame(int frame_idx) const { return pixels.data() + frame_idx * frame_bytes(); }
  uint8_t* frame(int frame_idx) { return pixels.data() + frame_idx * frame_bytes(); }
  // True when pixels holds exactly num_frames * height * width * 3 bytes and the sizes are positive.
  bool is_consistent() const {
    return num_frames > 0 && height > 0 && width > 0 && pixels.size() == frame_bytes() * num_frames;
  }
};

}  // namespace frugal::video
