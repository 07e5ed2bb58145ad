// Test helpers for the media room: a scratch directory, file reads, a synthetic clip.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace frugal::media::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "frugal_media_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : std::string();
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The synthetic clip: a smooth gradient background (R rises with x, G with y, B constant) with a
// 16x16 red square that moves 4 px right per frame. Square corners sit on even coordinates so a
// 2x2 chroma block never straddles its edge.
struct SyntheticClip {
  static constexpr int kWidth = 64;
  static constexpr int kHeight = 48;
  static constexpr int kNumFrames = 9;
  static constexpr int kSquareSize = 16;
  static constexpr int kSquareY = 16;
  static constexpr uint8_t kSquareRgb[3] = {220, 40, 40};

  static int square_x(int frame_idx) { return 4 + 4 * frame_idx; }

  // [H, W, 3]
  static std::vector<uint8_t> frame(int frame_idx) {
    std::vector<uint8_t> rgb(static_cast<size_t>(kWidth) * kHeight * 3);
    for (int y = 0; y < kHeight; ++y) {
      for (int x = 0; x < kWidth; ++x) {
        uint8_t* px = &rgb[(static_cast<size_t>(y) * kWidth + x) * 3];
        const bool in_square = x >= square_x(frame_idx) && x < square_x(frame_idx) + kSquareSize && y >= kSquareY &&
                               y < kSquareY + kSquareSize;
        if (in_square) {
          px[0] = kSquareRgb[0];
          px[1] = kSquareRgb[1];
          px[2] = kSquareRgb[2];
        } else {
          px[0] = static_cast<uint8_t>(40 + 3 * x);  // 40 .. 229
          px[1] = static_cast<uint8_t>(60 + 3 * y);  // 60 .. 201
          px[2] = 128;
        }
      }
    }
    return rgb;
  }
};

}  // namespace frugal::media::testing
