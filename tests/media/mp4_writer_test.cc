// Tests media/mp4_writer: ffprobe reads back what we meant to write, the decoded clip is close to
// the input, faststart puts moov first, and every misuse returns a clear Status.
#include "media/mp4_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "common/subprocess.h"
#include "media/mp4_reader.h"
#include "media_test_util.h"

namespace frugal::media {
namespace {

using testing::ScratchDir;
using testing::SyntheticClip;

Status write_clip(const std::string& path, const Mp4Options& options = {}) {
  Expected<Mp4Writer> writer = Mp4Writer::open(path, SyntheticClip::kWidth, SyntheticClip::kHeight, options);
  if (!writer) return writer.error();
  for (int frame_idx = 0; frame_idx < SyntheticClip::kNumFrames; ++frame_idx) {
    if (Status st = writer->write_frame(SyntheticClip::frame(frame_idx)); !st) return st;
  }
  return writer->finish();
}

// ffprobe's view of the first video stream (and the format's duration) as key -> value.
std::map<std::string, std::string> probe(const std::string& path) {
  const auto result = frugal::testing::run_command(
      "ffprobe -v error -select_streams v:0 -count_frames -show_entries "
      "stream=codec_name,width,height,nb_read_frames,r_frame_rate,avg_frame_rate,pix_fmt,color_space,"
      "color_primaries,color_transfer,color_range:format=duration -of default=noprint_wrappers=1 '" + path + "' 2>&1");
  std::map<std::string, std::string> fields;
  std::istringstream lines(result.output);
  for (std::string line; std::getline(lines, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) fields[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (result.exit_code != 0) fields["error"] = result.output;
  return fields;
}

// The four-character types of the file's top-level ISO BMFF boxes, in order.
std::vector<std::string> top_level_boxes(const std::vector<uint8_t>& bytes) {
  std::vector<std::string> types;
  size_t offset = 0;
  while (offset + 8 <= bytes.size()) {
    uint64_t size = (uint64_t{bytes[offset]} << 24) | (uint64_t{bytes[offset + 1]} << 16) |
                    (uint64_t{bytes[offset + 2]} << 8) | bytes[offset + 3];
    types.emplace_back(reinterpret_cast<const char*>(&bytes[offset + 4]), 4);
    if (size == 1 && offset + 16 <= bytes.size()) {  // 64-bit largesize follows the type
      size = 0;
      for (int i = 0; i < 8; ++i) size = (size << 8) | bytes[offset + 8 + i];
    }
    if (size < 8) break;  // 0 means "to end of file"
    offset += size;
  }
  return types;
}

struct ErrorStats {
  double mean_abs[3] = {0, 0, 0};     // per channel, in 8-bit levels
  double mean_signed[3] = {0, 0, 0};  // got - want
};

// Error of `got` against `want` (both [48, 64, 3]) over the pixels where include(x, y).
template <typename Include>
ErrorStats error_stats(const uint8_t* want, const uint8_t* got, Include include) {
  ErrorStats stats;
  int num_pixels = 0;
  for (int y = 0; y < SyntheticClip::kHeight; ++y) {
    for (int x = 0; x < SyntheticClip::kWidth; ++x) {
      if (!include(x, y)) continue;
      ++num_pixels;
      for (int c = 0; c < 3; ++c) {
        const size_t idx = (static_cast<size_t>(y) * SyntheticClip::kWidth + x) * 3 + c;
        const int diff = int{got[idx]} - int{want[idx]};
        stats.mean_abs[c] += std::abs(diff);
        stats.mean_signed[c] += diff;
      }
    }
  }
  for (int c = 0; c < 3; ++c) {
    stats.mean_abs[c] /= num_pixels;
    stats.mean_signed[c] /= num_pixels;
  }
  return stats;
}

Mp4Options fast_options() {
  Mp4Options options;
  options.preset = "ultrafast";
  return options;
}

TEST(Mp4Writer, FfprobeSeesH264Yuv420pAt16Fps) {
  ScratchDir dir;
  const std::string path = dir.file("clip.mp4");
  ASSERT_TRUE(write_clip(path).is_ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  auto fields = probe(path);
  EXPECT_EQ(fields["error"], "");
  EXPECT_EQ(fields["codec_name"], "h264");
  EXPECT_EQ(fields["width"], "64");
  EXPECT_EQ(fields["height"], "48");
  EXPECT_EQ(fields["nb_read_frames"], "9");
  EXPECT_EQ(fields["r_frame_rate"], "16/1");
  EXPECT_EQ(fields["avg_frame_rate"], "16/1");
  EXPECT_EQ(fields["pix_fmt"], "yuv420p");
  EXPECT_EQ(fields["color_space"], "bt709");
  EXPECT_EQ(fields["color_primaries"], "bt709");
  EXPECT_EQ(fields["color_transfer"], "bt709");
  EXPECT_EQ(fields["color_range"], "tv");
  EXPECT_NEAR(std::stod(fields["duration"].empty() ? "0" : fields["duration"]), 9.0 / 16.0, 1e-3);
}

TEST(Mp4Writer, FaststartPutsMoovBeforeMdat) {
  ScratchDir dir;
  const std::string path = dir.file("clip.mp4");
  ASSERT_TRUE(write_clip(path).is_ok());
  const std::vector<std::string> boxes = top_level_boxes(testing::read_bytes(path));
  const auto moov = std::find(boxes.begin(), boxes.end(), "moov");
  const auto mdat = std::find(boxes.begin(), boxes.end(), "mdat");
  ASSERT_NE(moov, boxes.end());
  ASSERT_NE(mdat, boxes.end());
  EXPECT_LT(moov - boxes.begin(), mdat - boxes.begin());
}

TEST(Mp4Writer, DecodedClipIsCloseToTheInput) {
  ScratchDir dir;
  const std::string path = dir.file("clip.mp4");
  ASSERT_TRUE(write_clip(path).is_ok());  // crf 18
  Expected<DecodedVideo> video = read_mp4(path);
  ASSERT_TRUE(video.has_value()) << video.error().to_string();
  EXPECT_EQ(video->info.width, 64);
  EXPECT_EQ(video->info.height, 48);
  EXPECT_EQ(video->info.num_frames, 9);
  EXPECT_EQ(video->info.fps.num, 16);
  EXPECT_EQ(video->info.fps.den, 1);
  EXPECT_EQ(video->info.codec_name, "h264");
  EXPECT_EQ(video->info.pixel_format, "yuv420p");
  EXPECT_NEAR(video->info.duration_s, 9.0 / 16.0, 1e-3);
  const size_t frame_bytes = 64 * 48 * 3;
  ASSERT_EQ(video->frames.size(), 9 * frame_bytes);
  for (int f = 0; f < SyntheticClip::kNumFrames; ++f) {
    const std::vector<uint8_t> want = SyntheticClip::frame(f);
    const uint8_t* got = video->frames.data() + f * frame_bytes;
    const ErrorStats all = error_stats(want.data(), got, [](int, int) { return true; });
    // Smooth content: the gradient at least 4 px from the square's edges (chroma is subsampled and
    // filtered across a few pixels, so the red/gradient edge costs more than smooth areas).
    const int sx = SyntheticClip::square_x(f);
    const ErrorStats smooth = error_stats(want.data(), got, [sx](int x, int y) {
      return x < sx - 4 || x >= sx + SyntheticClip::kSquareSize + 4 || y < SyntheticClip::kSquareY - 4 ||
             y >= SyntheticClip::kSquareY + SyntheticClip::kSquareSize + 4;
    });
    for (int c = 0; c < 3; ++c) {
      EXPECT_LT(smooth.mean_abs[c], 3.0) << "frame " << f << " channel " << c;
      EXPECT_LT(all.mean_abs[c], 4.0) << "frame " << f << " channel " << c;
      // A colour-matrix or range mismatch between writer and reader shows up as a bias.
      EXPECT_LT(std::abs(smooth.mean_signed[c]), 1.0) << "frame " << f << " channel " << c;
      if (f == 0 || f == 8) {
        std::printf("frame %d channel %d: mean abs error %.3f (smooth area %.3f, bias %+.3f) levels\n", f, c,
                    all.mean_abs[c], smooth.mean_abs[c], smooth.mean_signed[c]);
      }
    }
    // The square's centre pixel keeps its colour.
    const int cx = sx + SyntheticClip::kSquareSize / 2;
    const int cy = SyntheticClip::kSquareY + SyntheticClip::kSquareSize / 2;
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(got[(cy * 64 + cx) * 3 + c], SyntheticClip::kSquareRgb[c], 10) << "frame " << f << " channel " << c;
    }
  }
}

TEST(Mp4Writer, RationalFrameRate) {
  ScratchDir dir;
  const std::string path = dir.file("ntsc.mp4");
  ASSERT_TRUE(write_clip(path, Mp4Options{.fps = {30000, 1001}, .crf = 18, .preset = "ultrafast"}).is_ok());
  auto fields = probe(path);
  EXPECT_EQ(fields["r_frame_rate"], "30000/1001");
  EXPECT_EQ(fields["nb_read_frames"], "9");
  EXPECT_NEAR(std::stod(fields["duration"].empty() ? "0" : fields["duration"]), 9 * 1001.0 / 30000.0, 1e-3);
}

TEST(Mp4Writer, RejectsBadArguments) {
  ScratchDir dir;
  const std::string path = dir.file("bad.mp4");
  auto odd = Mp4Writer::open(path, 63, 48);
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(odd.error().message().find("even"), std::string::npos) << odd.error().message();
  EXPECT_EQ(Mp4Writer::open(path, 64, 47).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Mp4Writer::open(path, 0, 48).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Mp4Writer::open(path, -2, 48).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Mp4Writer::open(path, 64, 48, {.fps = {0, 1}}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Mp4Writer::open(path, 64, 48, {.fps = {16, 0}}).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Mp4Writer::open(path, 64, 48, {.fps = {16, 1}, .crf = 52}).error().code(), StatusCode::kInvalidArgument);
  auto bad_preset = Mp4Writer::open(path, 64, 48, {.fps = {16, 1}, .crf = 18, .preset = "warp-speed"});
  ASSERT_FALSE(bad_preset.has_value());
  EXPECT_NE(bad_preset.error().message().find("warp-speed"), std::string::npos) << bad_preset.error().message();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

TEST(Mp4Writer, UnwritablePathIsNotFound) {
  auto writer = Mp4Writer::open("/nonexistent/dir/x.mp4", 64, 48);
  ASSERT_FALSE(writer.has_value());
  EXPECT_EQ(writer.error().code(), StatusCode::kNotFound);
  EXPECT_NE(writer.error().message().find("/nonexistent/dir/x.mp4"), std::string::npos) << writer.error().message();
}

TEST(Mp4Writer, WrongFrameSizeIsRejected) {
  ScratchDir dir;
  auto writer = Mp4Writer::open(dir.file("x.mp4"), 64, 48);
  ASSERT_TRUE(writer.has_value());
  std::vector<uint8_t> short_frame(64 * 48 * 3 - 1);
  Status st = writer->write_frame(short_frame);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("expected 9216"), std::string::npos) << st.message();
  EXPECT_EQ(writer->num_frames(), 0);
}

TEST(Mp4Writer, ZeroFramesIsAnErrorAndLeavesNoFile) {
  ScratchDir dir;
  const std::string path = dir.file("empty.mp4");
  {
    auto writer = Mp4Writer::open(path, 64, 48);
    ASSERT_TRUE(writer.has_value());
    Status st = writer->finish();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find("no frames"), std::string::npos) << st.message();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

TEST(Mp4Writer, AbandonedWriterRemovesItsPartialFile) {
  ScratchDir dir;
  const std::string path = dir.file("abandoned.mp4");
  {
    auto writer = Mp4Writer::open(path, 64, 48);
    ASSERT_TRUE(writer.has_value());
    EXPECT_TRUE(std::filesystem::exists(path + ".partial"));
    for (int f = 0; f < 3; ++f) ASSERT_TRUE(writer->write_frame(SyntheticClip::frame(f)).is_ok());
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

TEST(Mp4Writer, UseAfterFinishIsAnError) {
  ScratchDir dir;
  auto writer = Mp4Writer::open(dir.file("once.mp4"), 64, 48);
  ASSERT_TRUE(writer.has_value());
  EXPECT_EQ(writer->encoder_name(), "libx264");
  ASSERT_TRUE(writer->write_frame(SyntheticClip::frame(0)).is_ok());
  ASSERT_TRUE(writer->finish().is_ok());
  EXPECT_EQ(writer->write_frame(SyntheticClip::frame(1)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(writer->finish().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(probe(dir.file("once.mp4"))["nb_read_frames"], "1");
}

TEST(Mp4Writer, MovedWriterKeepsWorking) {
  ScratchDir dir;
  auto opened = Mp4Writer::open(dir.file("moved.mp4"), 64, 48, fast_options());
  ASSERT_TRUE(opened.has_value());
  Mp4Writer writer = std::move(*opened);
  ASSERT_TRUE(writer.write_frame(SyntheticClip::frame(0)).is_ok());
  ASSERT_TRUE(writer.write_frame(SyntheticClip::frame(1)).is_ok());
  ASSERT_TRUE(writer.finish().is_ok());
  EXPECT_EQ(probe(dir.file("moved.mp4"))["nb_read_frames"], "2");
}

}  // namespace
}  // namespace frugal::media
