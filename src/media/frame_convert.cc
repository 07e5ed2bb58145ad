#include "media/frame_convert.h"

#include <cmath>

#include "core/check.h"

namespace frugal::media {

uint8_t wan_to_u8(float value) {
  if (std::isnan(value)) return 0;
  // Written as the reference's three float32 steps; none can fuse into an FMA (a division sits
  // between the add and the multiply, and the product is cast, not added to).
  const float clamped = value < -1.0f ? -1.0f : (value > 1.0f ? 1.0f : value);
  const float unit = (clamped + 1.0f) / 2.0f;  // [0, 1]
  const float scaled = unit * 255.0f;          // [0, 255]
  return static_cast<uint8_t>(scaled);         // truncation, as torch's .type(torch.uint8)
}

float u8_to_wan(uint8_t value) {
  const float unit = static_cast<float>(value) / 255.0f;
  return (unit - 0.5f) / 0.5f;
}

namespace {

void check_frame_args(size_t video_elements, const VideoShape& shape, int frame_idx, size_t rgb_bytes) {
  CHECK(shape.num_frames >= 0 && shape.height >= 0 && shape.width >= 0, "negative video shape");
  CHECK(video_elements == shape.tensor_elements(), "video span does not match [3, F, H, W]");
  CHECK(rgb_bytes == 3 * shape.frame_pixels(), "rgb span does not match [H, W, 3]");
  CHECK(frame_idx >= 0 && frame_idx < shape.num_frames, "frame index out of range");
}

}  // namespace

void video_frame_to_rgb8(std::span<const float> video, const VideoShape& shape, int frame_idx,
                         std::span<uint8_t> rgb) {
  check_frame_args(video.size(), shape, frame_idx, rgb.size());
  const size_t pixels = shape.frame_pixels();
  const size_t channel_stride = static_cast<size_t>(shape.num_frames) * pixels;  // elements per channel plane
  for (size_t channel_idx = 0; channel_idx < 3; ++channel_idx) {
    const float* plane = video.data() + channel_idx * channel_stride + static_cast<size_t>(frame_idx) * pixels;
    for (size_t pixel_idx = 0; pixel_idx < pixels; ++pixel_idx) {
      rgb[pixel_idx * 3 + channel_idx] = wan_to_u8(plane[pixel_idx]);
    }
  }
}

std::vector<uint8_t> video_to_rgb8(std::span<const float> video, const VideoShape& shape) {
  CHECK(video.size() == shape.tensor_elements(), "video span does not match [3, F, H, W]");
  const size_t frame_bytes = 3 * shape.frame_pixels();
  std::vector<uint8_t> frames(static_cast<size_t>(shape.num_frames) * frame_bytes);  // [F, H, W, 3]
  for (int frame_idx = 0; frame_idx < shape.num_frames; ++frame_idx) {
    video_frame_to_rgb8(video, shape, frame_idx,
                        std::span<uint8_t>(frames.data() + static_cast<size_t>(frame_idx) * frame_bytes, frame_bytes));
  }
  return frames;
}

void rgb8_to_video_frame(std::span<const uint8_t> rgb, const VideoShape& shape, int frame_idx,
                         std::span<float> video) {
  check_frame_args(video.size(), shape, frame_idx, rgb.size());
  const size_t pixels = shape.frame_pixels();
  const size_t channel_stride = static_cast<size_t>(shape.num_frames) * pixels;
  for (size_t channel_idx = 0; channel_idx < 3; ++channel_idx) {
    float* plane = video.data() + channel_idx * channel_stride + static_cast<size_t>(frame_idx) * pixels;
    for (size_t pixel_idx = 0; pixel_idx < pixels; ++pixel_idx) {
      plane[pixel_idx] = u8_to_wan(rgb[pixel_idx * 3 + channel_idx]);
    }
  }
}

}  // namespace frugal::media
