// Decodes the video stream of an MP4 (or any container libavformat opens) to RGB8 frames
// (media layer): round-trip tests, and the service's thumbnails and moderation.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/expected.h"
#include "core/status.h"
#include "media/media_types.h"

namespace frugal::media {

struct Mp4Info {
  int width = 0;
  int height = 0;
  FrameRate fps{0, 1};        // the stream's average frame rate (its nominal rate where unset)
  int64_t num_frames = 0;     // frames decoded (all of them unless Mp4ReadOptions::max_frames cut in)
  std::string codec_name;     // libavcodec's short name: "h264", "hevc", ...
  std::string pixel_format;   // the stream's, e.g. "yuv420p"
  double duration_s = 0.0;    // the container's duration, 0 where unknown
};

struct Mp4ReadOptions {
  // Stop after this many frames (1 for a thumbnail); 0 decodes every frame. Frames are held in
  // memory as RGB8 (H * W * 3 bytes each), so untrusted input should be read with a limit.
  int64_t max_frames = 0;
  // Set: each decoded frame [height, width, 3] is handed to this callback instead of being kept
  // (DecodedVideo::frames stays empty), so a long video streams through in one frame of memory.
  // A non-ok Status stops the decode and is returned.
  std::function<Status(const Mp4Info& info, std::span<const uint8_t> rgb)> on_frame = nullptr;
  // Set (and on_frame not): each frame's luma [height, width] is handed over instead: the decoded
  // Y' plane as stored where the stream is 8-bit planar YUV (no RGB conversion, so no clipping of
  // out-of-gamut colours), else BT.709 luma of the RGB picture. The watermark detector reads this.
  std::function<Status(const Mp4Info& info, std::span<const uint8_t> luma)> on_luma = nullptr;
};

struct DecodedVideo {
  Mp4Info info;
  std::vector<uint8_t> frames;  // [num_frames, height, width, 3], in display order
};

// Errors: kNotFound when the file is missing, kInvalidArgument when it has no video stream,
// kDataLoss for corrupt data.
Expected<DecodedVideo> read_mp4(const std::string& path, const Mp4ReadOptions& options = {});

}  // namespace frugal::media
