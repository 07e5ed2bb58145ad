// Video tensor <-> 8-bit RGB frames, bit-exact with the official Wan2.1 save path (media layer).
//
// Layouts: a video is planar f32 [3, F, H, W] in [-1, 1], C order (the VAE decoder's output for one
// sample); an RGB8 frame is interleaved [H, W, 3] (R, G, B), rows top to bottom, no padding.
//
// The reference (Wan2.1 wan/utils/utils.py `cache_video`, the path behind generate.py's mp4s):
//   tensor = tensor.clamp(-1, 1)
//   torchvision.utils.make_grid(u, normalize=True, value_range=(-1, 1))   # per frame, batch 1
//       -> norm_ip: img.clamp_(-1, 1); img.sub_(-1).div_(max(1 - (-1), 1e-5))   i.e. (x + 1) / 2
//   tensor = (tensor * 255).type(torch.uint8)
// all in float32. The cast truncates toward zero: there is NO +0.5 rounding (torchvision's own
// save_image adds 0.5; Wan's video path does not), so 0.0 -> 127.5 -> 127 and only exactly 1.0
// reaches 255. We do the same float32 operations in the same order. NaN (where the reference's
// cast is undefined) maps to 0.
// The reverse follows Wan's image-to-video input path: TF.to_tensor(img).sub_(0.5).div_(0.5),
// i.e. (u / 255 - 0.5) / 0.5 in float32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace frugal::media {

// The sizes of a planar video tensor [3, F, H, W].
struct VideoShape {
  int num_frames = 0;
  int height = 0;
  int width = 0;

  size_t frame_pixels() const { return static_cast<size_t>(height) * width; }
  size_t tensor_elements() const { return 3 * static_cast<size_t>(num_frames) * frame_pixels(); }
};

// One value, exactly as the reference: clamp to [-1, 1], (x + 1) / 2, * 255, truncate.
uint8_t wan_to_u8(float value);
// One value back: (u / 255 - 0.5) / 0.5. Like the reference, wan_to_u8(u8_to_wan(u)) is u or,
// for 63 of the 256 values (float32 rounding meets a truncating cast), u - 1.
float u8_to_wan(uint8_t value);

// Frame `frame_idx` of `video` [3, F, H, W] into `rgb` [H, W, 3].
// Preconditions (CHECKed): video.size() == shape.tensor_elements(), rgb.size() == 3 * H * W,
// 0 <= frame_idx < F.
void video_frame_to_rgb8(std::span<const float> video, const VideoShape& shape, int frame_idx,
                         std::span<uint8_t> rgb);
// Every frame: returns [F, H, W, 3] (frame f starts at f * H * W * 3).
std::vector<uint8_t> video_to_rgb8(std::span<const float> video, const VideoShape& shape);

// The reverse for one frame: `rgb` [H, W, 3] into frame `frame_idx` of `video` [3, F, H, W].
// Same preconditions as video_frame_to_rgb8.
void rgb8_to_video_frame(std::span<const uint8_t> rgb, const VideoShape& shape, int frame_idx,
                         std::span<float> video);

}  // namespace frugal::media
