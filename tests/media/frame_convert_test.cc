// Tests media/frame_convert against the Wan2.1 reference arithmetic (clamp, (x+1)/2, *255, truncate).
#include "media/frame_convert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace frugal::media {
namespace {

TEST(FrameConvert, KnownAnswersMatchTheReference) {
  EXPECT_EQ(wan_to_u8(-1.0f), 0);
  EXPECT_EQ(wan_to_u8(1.0f), 255);
  EXPECT_EQ(wan_to_u8(0.0f), 127);      // 127.5 truncated: the reference has no +0.5
  EXPECT_EQ(wan_to_u8(0.5f), 191);      // 191.25
  EXPECT_EQ(wan_to_u8(-0.5f), 63);      // 63.75
  EXPECT_EQ(wan_to_u8(0.999f), 254);    // 254.87: only exactly 1.0 reaches 255
  EXPECT_EQ(wan_to_u8(-0.999f), 0);     // 0.1275
  EXPECT_EQ(wan_to_u8(-0.99f), 1);      // 1.275
}

TEST(FrameConvert, OutOfRangeClampsAndNanIsZero) {
  EXPECT_EQ(wan_to_u8(-2.0f), 0);
  EXPECT_EQ(wan_to_u8(7.5f), 255);
  EXPECT_EQ(wan_to_u8(std::numeric_limits<float>::infinity()), 255);
  EXPECT_EQ(wan_to_u8(-std::numeric_limits<float>::infinity()), 0);
  EXPECT_EQ(wan_to_u8(std::numeric_limits<float>::quiet_NaN()), 0);
}

TEST(FrameConvert, ReverseIsToTensorThenNormalize) {
  EXPECT_EQ(u8_to_wan(0), -1.0f);
  EXPECT_EQ(u8_to_wan(255), 1.0f);
  EXPECT_FLOAT_EQ(u8_to_wan(128), (128.0f / 255.0f - 0.5f) / 0.5f);
  for (int value = 0; value < 256; ++value) {
    const float wan = u8_to_wan(static_cast<uint8_t>(value));
    EXPECT_GE(wan, -1.0f);
    EXPECT_LE(wan, 1.0f);
  }
}

// A property of the reference, not a bug of ours: u8 -> [-1, 1] -> u8 with Wan's float32 ops and
// truncating cast gives back u for 193 of the 256 values and u - 1 for the other 63 (where
// (u / 255 - 0.5) / 0.5 rounds just below the exact value). We pin the count so any drift from
// the reference arithmetic (an added +0.5, a fused multiply-add, a reordered division) shows.
TEST(FrameConvert, U8RoundTripLosesAtMostOneLevelLikeTheReference) {
  int num_low_by_one = 0;
  for (int value = 0; value < 256; ++value) {
    const int back = wan_to_u8(u8_to_wan(static_cast<uint8_t>(value)));
    EXPECT_TRUE(back == value || back == value - 1) << value << " -> " << back;
    num_low_by_one += back == value - 1 ? 1 : 0;
  }
  EXPECT_EQ(wan_to_u8(u8_to_wan(0)), 0);
  EXPECT_EQ(wan_to_u8(u8_to_wan(255)), 255);
  EXPECT_EQ(num_low_by_one, 63);
}

// The [-1, 1] value at the centre of 8-bit level u's interval: converts back to u exactly.
float centre_of_level(uint8_t value) { return (static_cast<float>(value) + 0.5f) / 127.5f - 1.0f; }

// [3, F, H, W] with F=2, H=2, W=3: value encodes (channel, frame, pixel) so any misplaced read shows.
TEST(FrameConvert, PlanarToInterleavedLayout) {
  const VideoShape shape{.num_frames = 2, .height = 2, .width = 3};
  std::vector<uint8_t> expected_u8(shape.tensor_elements());
  std::vector<float> video(shape.tensor_elements());
  for (size_t idx = 0; idx < video.size(); ++idx) {
    expected_u8[idx] = static_cast<uint8_t>(idx * 7 % 256);
    video[idx] = centre_of_level(expected_u8[idx]);
  }
  const std::vector<uint8_t> frames = video_to_rgb8(video, shape);  // [F, H, W, 3]
  ASSERT_EQ(frames.size(), video.size());
  for (int f = 0; f < 2; ++f) {
    for (int p = 0; p < 6; ++p) {
      for (int c = 0; c < 3; ++c) {
        const size_t planar = (static_cast<size_t>(c) * 2 + f) * 6 + p;
        EXPECT_EQ(frames[(static_cast<size_t>(f) * 6 + p) * 3 + c], expected_u8[planar]) << f << " " << p << " " << c;
      }
    }
  }
  std::vector<uint8_t> frame1(18);
  video_frame_to_rgb8(video, shape, 1, frame1);
  EXPECT_EQ(frame1, std::vector<uint8_t>(frames.begin() + 18, frames.end()));
}

TEST(FrameConvert, InterleavedToPlanarLayout) {
  const VideoShape shape{.num_frames = 3, .height = 4, .width = 2};
  std::vector<uint8_t> rgb(3 * shape.frame_pixels());
  std::vector<float> video(shape.tensor_elements(), 9.0f);  // 9.0 marks "not written"
  for (size_t idx = 0; idx < rgb.size(); ++idx) rgb[idx] = static_cast<uint8_t>(idx * 11 + 3);
  rgb8_to_video_frame(rgb, shape, 2, video);
  const size_t pixels = shape.frame_pixels();
  for (size_t p = 0; p < pixels; ++p) {
    for (size_t c = 0; c < 3; ++c) {
      EXPECT_EQ(video[(c * 3 + 2) * pixels + p], u8_to_wan(rgb[p * 3 + c])) << p << " " << c;
    }
  }
  // Frames 0 and 1 are untouched.
  for (size_t c = 0; c < 3; ++c) {
    for (size_t idx = 0; idx < 2 * pixels; ++idx) EXPECT_EQ(video[c * 3 * pixels + idx], 9.0f);
  }
}

}  // namespace
}  // namespace frugal::media
