// Helpers shared by the C2PA tests (c2pa_test.cc, c2pa_stream_test.cc): a per-test temporary
// folder, a file's bytes, and a small real H.264 MP4 (faststart: ftyp, moov, mdat) of moving
// gradients, 64x48 at 8 fps.
#pragma once

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "media/mp4_writer.h"

namespace frugal::trust::c2pa_test {

// A fresh, empty folder `<TempDir>/frugal_<prefix>_<name>_<pid>`.
inline std::string temp_dir(const std::string& prefix, const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / ("frugal_" + prefix + "_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `dir`/clip.mp4 with `frames` frames; its path.
inline std::string make_mp4(const std::string& dir, int frames = 6) {
  const std::string path = dir + "/clip.mp4";
  media::Mp4Options options;
  options.fps = {8, 1};
  options.preset = "ultrafast";
  auto writer = media::Mp4Writer::open(path, 64, 48, options);
  EXPECT_TRUE(writer.has_value()) << writer.error().to_string();
  if (!writer.has_value()) return path;
  std::vector<uint8_t> rgb(64 * 48 * 3);
  for (int f = 0; f < frames; ++f) {
    for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>(i * 7 + f * 31);
    EXPECT_TRUE(writer->write_frame(rgb).is_ok());
  }
  EXPECT_TRUE(writer->finish().is_ok());
  return path;
}

}  // namespace frugal::trust::c2pa_test
