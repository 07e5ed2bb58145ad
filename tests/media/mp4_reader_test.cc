// Tests media/mp4_reader on inputs other than our own happy path: limits, missing and corrupt files.
#include "media/mp4_reader.h"

#include <gtest/gtest.h>

#include <fstream>

#include "media/mp4_writer.h"
#include "media_test_util.h"

namespace frugal::media {
namespace {

using testing::ScratchDir;
using testing::SyntheticClip;

Mp4Options fast_options() {
  Mp4Options options;
  options.preset = "ultrafast";
  return options;
}

TEST(Mp4Reader, MaxFramesStopsEarly) {
  ScratchDir dir;
  const std::string path = dir.file("clip.mp4");
  auto writer = Mp4Writer::open(path, 64, 48, fast_options());
  ASSERT_TRUE(writer.has_value());
  for (int f = 0; f < SyntheticClip::kNumFrames; ++f) ASSERT_TRUE(writer->write_frame(SyntheticClip::frame(f)).is_ok());
  ASSERT_TRUE(writer->finish().is_ok());
  auto first = read_mp4(path, {.max_frames = 1});
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  EXPECT_EQ(first->info.num_frames, 1);
  EXPECT_EQ(first->frames.size(), 64u * 48 * 3);
  auto all = read_mp4(path);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->info.num_frames, 9);
  EXPECT_TRUE(std::equal(first->frames.begin(), first->frames.end(), all->frames.begin()));
  EXPECT_EQ(read_mp4(path, {.max_frames = -1}).error().code(), StatusCode::kInvalidArgument);
}

TEST(Mp4Reader, MissingFileIsNotFound) {
  auto video = read_mp4("/nonexistent/dir/x.mp4");
  ASSERT_FALSE(video.has_value());
  EXPECT_EQ(video.error().code(), StatusCode::kNotFound);
}

TEST(Mp4Reader, GarbageIsAnErrorNotACrash) {
  ScratchDir dir;
  const std::string path = dir.file("garbage.mp4");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 131 + 7) & 0xff));
  }
  auto video = read_mp4(path);
  ASSERT_FALSE(video.has_value());
  EXPECT_FALSE(video.error().message().empty());
}

TEST(Mp4Reader, TruncatedClipIsAnErrorOrFewerFrames) {
  ScratchDir dir;
  const std::string path = dir.file("clip.mp4");
  auto writer = Mp4Writer::open(path, 64, 48, fast_options());
  ASSERT_TRUE(writer.has_value());
  for (int f = 0; f < SyntheticClip::kNumFrames; ++f) ASSERT_TRUE(writer->write_frame(SyntheticClip::frame(f)).is_ok());
  ASSERT_TRUE(writer->finish().is_ok());
  std::vector<uint8_t> bytes = testing::read_bytes(path);
  const std::string cut = dir.file("cut.mp4");
  {
    std::ofstream out(cut, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size() * 2 / 3));
  }
  auto video = read_mp4(cut);
  if (video.has_value()) {
    EXPECT_LT(video->info.num_frames, 9);  // faststart: moov first, mdat cut short
  }
}

}  // namespace
}  // namespace frugal::media
