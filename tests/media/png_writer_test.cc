// Tests media/png_writer and media/image_decoder: PNG is lossless, so a round trip is exact.
#include "media/png_writer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/subprocess.h"
#include "media/image_decoder.h"
#include "media_test_util.h"

namespace frugal::media {
namespace {

using testing::ScratchDir;

constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

// Odd sizes on purpose: PNG has no chroma subsampling, so any size is fine.
std::vector<uint8_t> noisy_image(int width, int height) {
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * height * 3);
  uint32_t state = 12345;
  for (uint8_t& byte : rgb) {
    state = state * 1664525u + 1013904223u;  // an LCG: deterministic, incompressible enough
    byte = static_cast<uint8_t>(state >> 24);
  }
  return rgb;
}

TEST(PngWriter, EncodeDecodeIsExact) {
  const std::vector<uint8_t> rgb = noisy_image(37, 23);
  auto png = encode_png(rgb, 37, 23);
  ASSERT_TRUE(png.has_value()) << png.error().to_string();
  ASSERT_GE(png->size(), 8u);
  EXPECT_TRUE(std::equal(std::begin(kPngSignature), std::end(kPngSignature), png->begin()));
  auto image = decode_image(*png);
  ASSERT_TRUE(image.has_value()) << image.error().to_string();
  EXPECT_EQ(image->width, 37);
  EXPECT_EQ(image->height, 23);
  EXPECT_EQ(image->pixels, rgb);
}

TEST(PngWriter, WritePngWritesTheEncodedBytes) {
  ScratchDir dir;
  const std::string path = dir.file("thumb.png");
  const std::vector<uint8_t> rgb = testing::SyntheticClip::frame(3);
  ASSERT_TRUE(write_png(path, rgb, 64, 48).is_ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  const std::vector<uint8_t> bytes = testing::read_bytes(path);
  EXPECT_EQ(bytes, *encode_png(rgb, 64, 48));
  auto image = decode_image(bytes);
  ASSERT_TRUE(image.has_value());
  EXPECT_EQ(image->pixels, rgb);
  const auto probe = frugal::testing::run_command(
      "ffprobe -v error -show_entries stream=codec_name,width,height,pix_fmt -of csv=p=0 '" + path + "'");
  EXPECT_EQ(probe.output, "png,64,48,rgb24\n");
}

TEST(PngWriter, RejectsBadArguments) {
  const std::vector<uint8_t> rgb(64 * 48 * 3);
  EXPECT_EQ(encode_png(rgb, 64, 47).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(encode_png(rgb, 0, 48).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(encode_png({}, 0, 0).error().code(), StatusCode::kInvalidArgument);
  Status st = write_png("/nonexistent/dir/x.png", rgb, 64, 48);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("/nonexistent/dir/x.png"), std::string::npos) << st.message();
}

TEST(ImageDecoder, RejectsUnknownAndCorruptInput) {
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
  EXPECT_EQ(decode_image(text).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(decode_image({}).error().code(), StatusCode::kInvalidArgument);
  auto png = encode_png(noisy_image(16, 16), 16, 16);
  ASSERT_TRUE(png.has_value());
  std::vector<uint8_t> truncated(png->begin(), png->begin() + static_cast<ptrdiff_t>(png->size() / 2));
  EXPECT_FALSE(decode_image(truncated).has_value());
  std::vector<uint8_t> signature_only(std::begin(kPngSignature), std::end(kPngSignature));
  EXPECT_FALSE(decode_image(signature_only).has_value());
}

// JPEG goes through the full-range BT.601 path; ffmpeg makes the file (skipped without ffmpeg).
TEST(ImageDecoder, DecodesJpeg) {
  ScratchDir dir;
  const std::string path = dir.file("red.jpg");
  const auto made = frugal::testing::run_command("ffmpeg -v error -f lavfi -i color=c=0xDC2828:s=32x16 -frames:v 1 -q:v 2 '" +
                                                 path + "' 2>&1");
  if (made.exit_code != 0) GTEST_SKIP() << "ffmpeg unavailable: " << made.output;
  auto image = decode_image(testing::read_bytes(path));
  ASSERT_TRUE(image.has_value()) << image.error().to_string();
  EXPECT_EQ(image->width, 32);
  EXPECT_EQ(image->height, 16);
  const uint8_t* centre = &image->pixels[(8 * 32 + 16) * 3];
  EXPECT_NEAR(centre[0], 0xDC, 6);
  EXPECT_NEAR(centre[1], 0x28, 6);
  EXPECT_NEAR(centre[2], 0x28, 6);
}

}  // namespace
}  // namespace frugal::media
