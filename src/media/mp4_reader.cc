#include "media/mp4_reader.h"

#include <cstring>
#include <utility>

extern "C" {
#include <libavutil/pixdesc.h>
}

#include "media/av_util.h"
#include "media/libav_log.h"

namespace frugal::media {

namespace {

// One decode in progress.
struct Decode {
  InputFormatPtr input;
  int stream_idx = -1;
  CodecContextPtr codec;
  SwsPtr sws;
  FramePtr frame;
  PacketPtr packet;
  int64_t max_frames = 0;  // 0: no limit
  DecodedVideo out;
  std::function<Status(const Mp4Info&, std::span<const uint8_t>)> on_frame;  // set: frames go here
  std::function<Status(const Mp4Info&, std::span<const uint8_t>)> on_luma;   // set: lumas go here
  std::vector<uint8_t> scratch;                                              // [H, W, 3] for on_frame / on_luma
  std::vector<uint8_t> luma;                                                 // [H, W] for on_luma

  bool full() const { return max_frames > 0 && out.info.num_frames >= max_frames; }
};

Status open_input(Decode& d, const std::string& path) {
  AVFormatContext* raw = nullptr;
  if (const int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr); err < 0) {
    return av_status(err, "mp4: cannot open " + path);  // avformat_open_input frees `raw` on failure
  }
  d.input.reset(raw);
  if (const int err = avformat_find_stream_info(raw, nullptr); err < 0) {
    return av_status(err, "mp4: cannot read the streams of " + path);
  }
  return Status::ok();
}

Status open_decoder(Decode& d, const std::string& path) {
  const AVCodec* decoder = nullptr;
  d.stream_idx = av_find_best_stream(d.input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (d.stream_idx == AVERROR_STREAM_NOT_FOUND) return invalid_argument("mp4: " + path + " has no video stream");
  if (d.stream_idx < 0) return av_status(d.stream_idx, "mp4: no decodable video stream in " + path);
  const AVStream* stream = d.input->streams[d.stream_idx];
  d.codec.reset(avcodec_alloc_context3(decoder));
  d.frame.reset(av_frame_alloc());
  d.packet.reset(av_packet_alloc());
  if (!d.codec || !d.frame || !d.packet) return resource_exhausted("mp4: cannot allocate the decoder");
  if (const int err = avcodec_parameters_to_context(d.codec.get(), stream->codecpar); err < 0) {
    return av_status(err, "mp4: decoder parameters");
  }
  if (const int err = avcodec_open2(d.codec.get(), decoder, nullptr); err < 0) {
    return av_status(err, std::string("mp4: cannot open the ") + decoder->name + " decoder");
  }
  Mp4Info& info = d.out.info;
  info.width = stream->codecpar->width;
  info.height = stream->codecpar->height;
  const AVRational rate = stream->avg_frame_rate.num > 0 ? stream->avg_frame_rate : stream->r_frame_rate;
  info.fps = FrameRate{rate.num, rate.den};
  info.codec_name = avcodec_get_name(stream->codecpar->codec_id);
  const char* pix_name = av_get_pix_fmt_name(static_cast<AVPixelFormat>(stream->codecpar->format));
  info.pixel_format = pix_name != nullptr ? pix_name : "unknown";
  if (d.input->duration > 0) info.duration_s = static_cast<double>(d.input->duration) / AV_TIME_BASE;
  return Status::ok();
}

// The luma of the decoded frame into d.luma [H, W]: the Y' plane of 8-bit planar YUV, else BT.709
// luma of the RGB conversion, rounded.
Status frame_luma(Decode& d, const Mp4Info& info) {
  const AVFrame& frame = *d.frame;
  const size_t pixels = static_cast<size_t>(info.width) * info.height;
  d.luma.resize(pixels);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
  const bool planar_yuv8 = desc != nullptr && (desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) == 0 &&
                           (desc->flags & AV_PIX_FMT_FLAG_PLANAR) != 0 && desc->nb_components >= 3 &&
                           desc->comp[0].plane == 0 && desc->comp[0].depth == 8 && desc->comp[0].step == 1;
  if (planar_yuv8) {
    for (int row = 0; row < info.height; ++row) {
      std::memcpy(&d.luma[static_cast<size_t>(row) * info.width], frame.data[0] + static_cast<ptrdiff_t>(row) * frame.linesize[0],
                  static_cast<size_t>(info.width));
    }
    return Status::ok();
  }
  d.scratch.resize(pixels * 3);
  if (Status st = frame_to_rgb24(frame, d.sws, d.scratch.data()); !st) return st;
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t* p = &d.scratch[3 * i];
    d.luma[i] = static_cast<uint8_t>(0.2126f * p[0] + 0.7152f * p[1] + 0.0722f * p[2] + 0.5f);
  }
  return Status::ok();
}

// Appends every frame the decoder has ready, up to the limit.
Status receive_frames(Decode& d) {
  while (!d.full()) {
    const int err = avcodec_receive_frame(d.codec.get(), d.frame.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::ok();
    if (err < 0) return av_status(err, "mp4: decoding failed");
    Mp4Info& info = d.out.info;
    if (d.frame->width != info.width || d.frame->height != info.height) {
      av_frame_unref(d.frame.get());
      return data_loss("mp4: frame size changed mid-stream");
    }
    const size_t frame_bytes = static_cast<size_t>(info.width) * info.height * 3;
    if (d.on_luma && !d.on_frame) {
      Status st = frame_luma(d, info);
      av_frame_unref(d.frame.get());
      if (!st) return st;
      ++info.num_frames;
      if (Status cb = d.on_luma(info, d.luma); !cb) return cb;
      continue;
    }
    uint8_t* target = nullptr;
    if (d.on_frame) {
      d.scratch.resize(frame_bytes);
      target = d.scratch.data();
    } else {
      d.out.frames.resize(d.out.frames.size() + frame_bytes);
      target = d.out.frames.data() + d.out.frames.size() - frame_bytes;
    }
    Status st = frame_to_rgb24(*d.frame, d.sws, target);
    av_frame_unref(d.frame.get());
    if (!st) return st;
    ++info.num_frames;
    if (d.on_frame) {
      if (Status cb = d.on_frame(info, d.scratch); !cb) return cb;
    }
  }
  return Status::ok();
}

Status decode_all(Decode& d) {
  while (!d.full()) {
    const int err = av_read_frame(d.input.get(), d.packet.get());
    if (err == AVERROR_EOF) break;
    if (err < 0) return av_status(err, "mp4: cannot read a packet");
    if (d.packet->stream_index != d.stream_idx) {
      av_packet_unref(d.packet.get());
      continue;
    }
    const int send_err = avcodec_send_packet(d.codec.get(), d.packet.get());
    av_packet_unref(d.packet.get());
    if (send_err < 0) return av_status(send_err, "mp4: corrupt video packet");
    if (Status st = receive_frames(d); !st) return st;
  }
  if (d.full()) return Status::ok();
  if (const int err = avcodec_send_packet(d.codec.get(), nullptr); err < 0) {  // drain delayed frames
    return av_status(err, "mp4: cannot flush the decoder");
  }
  return receive_frames(d);
}

}  // namespace

Expected<DecodedVideo> read_mp4(const std::string& path, const Mp4ReadOptions& options) {
  route_libav_logs();
  if (options.max_frames < 0) return invalid_argument("mp4: max_frames must be >= 0");
  Decode d;
  d.max_frames = options.max_frames;
  d.on_frame = options.on_frame;
  d.on_luma = options.on_luma;
  if (Status st = open_input(d, path); !st) return st;
  if (Status st = open_decoder(d, path); !st) return st;
  if (Status st = decode_all(d); !st) return st;
  return std::move(d.out);
}

}  // namespace frugal::media
