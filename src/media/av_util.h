// libav glue shared by the media room (media layer, internal): AVERROR -> Status, and owning
// handles for the libav objects we allocate. Never included by public media headers.
#pragma once

#include <memory>
#include <string_view>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include "core/status.h"

namespace frugal::media {

// `what` failed with libav error `av_error` (a negative AVERROR). The code follows the errno behind
// it (ENOENT -> kNotFound, ENOMEM/ENOSPC -> kResourceExhausted, EINVAL -> kInvalidArgument,
// AVERROR_INVALIDDATA -> kDataLoss, anything else kInternal); the message carries av_strerror's text.
Status av_status(int av_error, std::string_view what);

struct CodecContextDeleter {
  void operator()(AVCodecContext* ctx) const { avcodec_free_context(&ctx); }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct SwsDeleter {
  void operator()(SwsContext* sws) const { sws_freeContext(sws); }
};
// An input opened with avformat_open_input (closed, not just freed).
struct InputFormatDeleter {
  void operator()(AVFormatContext* fmt) const { avformat_close_input(&fmt); }
};

using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;
using InputFormatPtr = std::unique_ptr<AVFormatContext, InputFormatDeleter>;

// How the YUV side of a conversion is encoded. The RGB side is always full range.
struct YuvEncoding {
  bool bt709 = true;        // BT.709 matrix, else BT.601
  bool full_range = false;  // JPEG range 0..255, else limited (MPEG) range 16..235 / 16..240
};

// A converter from `src_format` to `dst_format` at the same size; exactly one of them is RGB24.
// Chroma is filtered with full horizontal interpolation and accurate rounding
// (SWS_FULL_CHR_H_INT | SWS_ACCURATE_RND): at our frame sizes the cost is small and it removes
// swscale's fast-path bias. Null when swscale refuses the pair.
SwsPtr make_sws(int width, int height, AVPixelFormat src_format, AVPixelFormat dst_format, YuvEncoding yuv);

// Converts a decoded `frame` (any pixel format swscale reads) into `rgb` [H, W, 3], whose size must
// be frame.width * frame.height * 3. The YUV matrix and range follow the frame's tags (BT.709 when
// tagged so, else BT.601; full range for JPEG-range frames). `sws` caches the converter between
// calls on frames of one stream; pass an empty one the first time.
Status frame_to_rgb24(const AVFrame& frame, SwsPtr& sws, uint8_t* rgb);

}  // namespace frugal::media
