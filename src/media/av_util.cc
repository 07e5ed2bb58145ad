#include "media/av_util.h"

#include <cerrno>
#include <cstring>
#include <string>

extern "C" {
#include <libavutil/error.h>
#include <libavutil/pixdesc.h>
}

namespace frugal::media {

Status av_status(int av_error, std::string_view what) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(av_error, text, sizeof(text));
  std::string message = std::string(what) + ": " + text;
  if (av_error == AVERROR(ENOENT)) return not_found(std::move(message));
  if (av_error == AVERROR(ENOMEM) || av_error == AVERROR(ENOSPC)) return resource_exhausted(std::move(message));
  if (av_error == AVERROR(EINVAL)) return invalid_argument(std::move(message));
  if (av_error == AVERROR_INVALIDDATA) return data_loss(std::move(message));
  return internal_error(std::move(message));
}

SwsPtr make_sws(int width, int height, AVPixelFormat src_format, AVPixelFormat dst_format, YuvEncoding yuv) {
  SwsPtr sws(sws_getContext(width, height, src_format, width, height, dst_format,
                            SWS_BICUBIC | SWS_FULL_CHR_H_INT | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
  if (!sws) return sws;
  const int* coefficients = sws_getCoefficients(yuv.bt709 ? SWS_CS_ITU709 : SWS_CS_ITU601);
  // One table serves both sides (swscale ignores it on the RGB side); the RGB side is full range.
  // Brightness 0, contrast and saturation 1.0 in 16.16 fixed point.
  const bool src_is_rgb = src_format == AV_PIX_FMT_RGB24;
  const int yuv_range = yuv.full_range ? 1 : 0;
  sws_setColorspaceDetails(sws.get(), coefficients, src_is_rgb ? 1 : yuv_range, coefficients,
                           src_is_rgb ? yuv_range : 1, 0, 1 << 16, 1 << 16);
  return sws;
}

namespace {

// The deprecated JPEG-range formats name their range in the format; swscale warns about them and
// wants the plain format plus an explicit range, which frame_to_rgb24 passes.
AVPixelFormat without_jpeg_range(AVPixelFormat format) {
  switch (format) {
    case AV_PIX_FMT_YUVJ420P: return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: return AV_PIX_FMT_YUV411P;
    default: return format;
  }
}

bool is_full_range(const AVFrame& frame) {
  switch (static_cast<AVPixelFormat>(frame.format)) {
    case AV_PIX_FMT_YUVJ420P:
    case AV_PIX_FMT_YUVJ422P:
    case AV_PIX_FMT_YUVJ444P:
    case AV_PIX_FMT_YUVJ440P:
    case AV_PIX_FMT_YUVJ411P:
      return true;
    default:
      return frame.color_range == AVCOL_RANGE_JPEG;
  }
}

}  // namespace

Status frame_to_rgb24(const AVFrame& frame, SwsPtr& sws, uint8_t* rgb) {
  const auto format = static_cast<AVPixelFormat>(frame.format);
  const int row_bytes = frame.width * 3;
  if (format == AV_PIX_FMT_RGB24) {  // PNG's usual output: copy rows, dropping the line padding
    for (int row_idx = 0; row_idx < frame.height; ++row_idx) {
      std::memcpy(rgb + static_cast<size_t>(row_idx) * row_bytes, frame.data[0] + static_cast<ptrdiff_t>(row_idx) * frame.linesize[0],
                  row_bytes);
    }
    return Status::ok();
  }
  if (!sws) {
    const YuvEncoding yuv{.bt709 = frame.colorspace == AVCOL_SPC_BT709, .full_range = is_full_range(frame)};
    sws = make_sws(frame.width, frame.height, without_jpeg_range(format), AV_PIX_FMT_RGB24, yuv);
    if (!sws) {
      const char* name = av_get_pix_fmt_name(format);
      return unimplemented(std::string("cannot convert pixel format ") + (name ? name : "unknown") + " to rgb24");
    }
  }
  uint8_t* dst_planes[1] = {rgb};
  const int dst_strides[1] = {row_bytes};
  sws_scale(sws.get(), frame.data, frame.linesize, 0, frame.height, dst_planes, dst_strides);
  return Status::ok();
}

}  // namespace frugal::media
