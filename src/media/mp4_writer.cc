#include "media/mp4_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

extern "C" {
#include <libavutil/opt.h>
}

#include "media/av_util.h"
#include "media/libav_log.h"

namespace frugal::media {

// Everything the writer owns. Destruction order matters: the muxer's AVIO is closed before the
// .partial file is deleted, and the AVFormatContext (which owns the stream) is freed last.
struct detail::Mp4WriterState {
  std::string path;
  std::string partial_path;  // `<path>.partial`, what libav writes to until finish()
  int width = 0;
  int height = 0;
  std::string encoder_name;
  AVFormatContext* format = nullptr;  // output muxer; owns `stream` and, once opened, format->pb
  AVStream* stream = nullptr;
  CodecContextPtr codec;
  SwsPtr sws;         // RGB24 -> YUV420P, BT.709 limited range
  FramePtr yuv;       // reused per frame; [H, W] luma + 2 x [H/2, W/2] chroma planes
  PacketPtr packet;   // reused per encoded packet
  int64_t num_frames = 0;
  bool finished = false;
  std::function<Status(const std::string&)> before_publish;  // Mp4Options::before_publish
  Status failure;  // first error from write_frame/finish; sticky

  ~Mp4WriterState() {
    const bool file_open = format != nullptr && format->pb != nullptr;
    if (file_open) avio_closep(&format->pb);
    // Frees the muxer's private state too (it runs the muxer's deinit when the header was written).
    avformat_free_context(format);
    if (!finished && file_open) std::remove(partial_path.c_str());
  }
};

namespace {

using State = detail::Mp4WriterState;

// x264's CRF scale ends at 51 (for 8-bit video).
constexpr int kMaxCrf = 51;

Status validate(int width, int height, const Mp4Options& options) {
  if (width <= 0 || height <= 0) {
    return invalid_argument("mp4: frame size must be positive, got " + std::to_string(width) + "x" +
                            std::to_string(height));
  }
  if (width % 2 != 0 || height % 2 != 0) {
    return invalid_argument("mp4: yuv420p needs an even width and height, got " + std::to_string(width) + "x" +
                            std::to_string(height));
  }
  if (options.fps.num <= 0 || options.fps.den <= 0) {
    return invalid_argument("mp4: fps must be a positive rational, got " + std::to_string(options.fps.num) + "/" +
                            std::to_string(options.fps.den));
  }
  if (options.crf < 0 || options.crf > kMaxCrf) {
    return invalid_argument("mp4: crf must be in [0, 51], got " + std::to_string(options.crf));
  }
  if (options.num_threads < 0) return invalid_argument("mp4: num_threads must be >= 0");
  return Status::ok();
}

// libx264 when present; otherwise whatever H.264 encoder this libavcodec has.
Expected<const AVCodec*> find_h264_encoder() {
  if (const AVCodec* codec = avcodec_find_encoder_by_name("libx264")) return codec;
  if (const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_H264)) return codec;
  return unimplemented("mp4: this libavcodec has no H.264 encoder (libx264 missing; install libavcodec-extra "
                       "or a build with --enable-libx264)");
}

// Sets an encoder private option. Encoders other than libx264 may not know it: that is not an error.
Status set_encoder_option(AVCodecContext* codec, const char* key, const std::string& value) {
  const int err = av_opt_set(codec->priv_data, key, value.c_str(), 0);
  if (err == AVERROR_OPTION_NOT_FOUND) return Status::ok();
  if (err < 0) return av_status(err, std::string("mp4: encoder option ") + key + "=" + value);
  return Status::ok();
}

Status open_encoder(State& s, const AVCodec* encoder, const Mp4Options& options) {
  s.codec.reset(avcodec_alloc_context3(encoder));
  if (!s.codec) return resource_exhausted("mp4: cannot allocate the encoder context");
  AVCodecContext* c = s.codec.get();
  c->width = s.width;
  c->height = s.height;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->time_base = AVRational{options.fps.den, options.fps.num};  // one tick per frame
  c->framerate = AVRational{options.fps.num, options.fps.den};
  c->color_primaries = AVCOL_PRI_BT709;
  c->color_trc = AVCOL_TRC_BT709;
  c->colorspace = AVCOL_SPC_BT709;
  c->color_range = AVCOL_RANGE_MPEG;
  c->thread_count = options.num_threads;
  if (s.format->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // avcC in moov
  if (Status st = set_encoder_option(c, "crf", std::to_string(options.crf)); !st) return st;
  if (Status st = set_encoder_option(c, "preset", options.preset); !st) return st;
  if (const int err = avcodec_open2(c, encoder, nullptr); err < 0) {
    return av_status(err, "mp4: cannot open encoder " + s.encoder_name + " (preset '" + options.preset + "')");
  }
  s.stream = avformat_new_stream(s.format, nullptr);
  if (s.stream == nullptr) return resource_exhausted("mp4: cannot allocate the video stream");
  if (const int err = avcodec_parameters_from_context(s.stream->codecpar, c); err < 0) {
    return av_status(err, "mp4: cannot copy encoder parameters");
  }
  s.stream->time_base = c->time_base;  // a hint; the muxer may pick a finer one in write_header
  s.stream->avg_frame_rate = c->framerate;
  s.stream->r_frame_rate = c->framerate;
  return Status::ok();
}

Status open_file(State& s) {
  if (const int err = avio_open(&s.format->pb, s.partial_path.c_str(), AVIO_FLAG_WRITE); err < 0) {
    return av_status(err, "mp4: cannot open " + s.partial_path + " for writing");
  }
  AVDictionary* muxer_options = nullptr;
  av_dict_set(&muxer_options, "movflags", "+faststart", 0);  // moov before mdat: progressive playback
  const int err = avformat_write_header(s.format, &muxer_options);
  av_dict_free(&muxer_options);
  if (err < 0) return av_status(err, "mp4: cannot write the header of " + s.partial_path);
  return Status::ok();
}

Status alloc_buffers(State& s) {
  s.yuv.reset(av_frame_alloc());
  s.packet.reset(av_packet_alloc());
  if (!s.yuv || !s.packet) return resource_exhausted("mp4: cannot allocate a frame or packet");
  s.yuv->format = AV_PIX_FMT_YUV420P;
  s.yuv->width = s.width;
  s.yuv->height = s.height;
  s.yuv->color_primaries = AVCOL_PRI_BT709;
  s.yuv->color_trc = AVCOL_TRC_BT709;
  s.yuv->colorspace = AVCOL_SPC_BT709;
  s.yuv->color_range = AVCOL_RANGE_MPEG;
  if (const int err = av_frame_get_buffer(s.yuv.get(), 0); err < 0) return av_status(err, "mp4: frame buffer");
  s.sws = make_sws(s.width, s.height, AV_PIX_FMT_RGB24, AV_PIX_FMT_YUV420P, YuvEncoding{.bt709 = true});
  if (!s.sws) return internal_error("mp4: swscale cannot convert rgb24 to yuv420p");
  return Status::ok();
}

// Moves every packet the encoder has ready into the muxer. EAGAIN (wants more input) and EOF
// (fully flushed) both end the loop normally.
Status drain_packets(State& s) {
  while (true) {
    const int err = avcodec_receive_packet(s.codec.get(), s.packet.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return Status::ok();
    if (err < 0) return av_status(err, "mp4: encoding failed");
    AVPacket* p = s.packet.get();
    if (p->duration == 0) p->duration = 1;  // one frame, in codec ticks (1/fps)
    av_packet_rescale_ts(p, s.codec->time_base, s.stream->time_base);
    p->stream_index = s.stream->index;
    const int write_err = av_interleaved_write_frame(s.format, p);  // takes the packet's reference
    if (write_err < 0) return av_status(write_err, "mp4: cannot write to " + s.partial_path);
  }
}

}  // namespace

Expected<Mp4Writer> Mp4Writer::open(const std::string& path, int width, int height, const Mp4Options& options) {
  route_libav_logs();
  if (Status st = validate(width, height, options); !st) return st;
  Expected<const AVCodec*> encoder = find_h264_encoder();
  if (!encoder) return encoder.error();
  auto state = std::make_unique<detail::Mp4WriterState>();
  state->path = path;
  state->partial_path = path + ".partial";
  state->width = width;
  state->height = height;
  state->encoder_name = (*encoder)->name;
  state->before_publish = options.before_publish;
  // The container is named, not guessed: the .partial suffix would defeat guessing.
  if (const int err = avformat_alloc_output_context2(&state->format, nullptr, "mp4", state->partial_path.c_str());
      err < 0) {
    return av_status(err, "mp4: cannot create the mp4 muxer");
  }
  if (Status st = open_encoder(*state, *encoder, options); !st) return st;
  if (Status st = open_file(*state); !st) return st;
  if (Status st = alloc_buffers(*state); !st) return st;
  return Mp4Writer(std::move(state));
}

Status Mp4Writer::write_frame(std::span<const uint8_t> rgb) {
  detail::Mp4WriterState& s = *state_;
  if (s.finished) return invalid_argument("mp4: write_frame after finish on " + s.path);
  if (!s.failure) return s.failure;
  const size_t expected_bytes = static_cast<size_t>(s.width) * s.height * 3;
  if (rgb.size() != expected_bytes) {
    return invalid_argument("mp4: frame has " + std::to_string(rgb.size()) + " bytes, expected " +
                            std::to_string(expected_bytes) + " (" + std::to_string(s.width) + "x" +
                            std::to_string(s.height) + " rgb24)");
  }
  // The encoder may still hold a reference to the previous buffers.
  if (const int err = av_frame_make_writable(s.yuv.get()); err < 0) {
    return s.failure = av_status(err, "mp4: frame buffer");
  }
  const uint8_t* src_planes[1] = {rgb.data()};
  const int src_strides[1] = {s.width * 3};
  sws_scale(s.sws.get(), src_planes, src_strides, 0, s.height, s.yuv->data, s.yuv->linesize);
  s.yuv->pts = s.num_frames;  // codec time base is 1/fps: frame i shows at i / fps seconds
  if (const int err = avcodec_send_frame(s.codec.get(), s.yuv.get()); err < 0) {
    return s.failure = av_status(err, "mp4: encoder rejected frame " + std::to_string(s.num_frames));
  }
  ++s.num_frames;
  if (Status st = drain_packets(s); !st) return s.failure = st;
  return Status::ok();
}

Status Mp4Writer::finish() {
  detail::Mp4WriterState& s = *state_;
  if (s.finished) return invalid_argument("mp4: finish called twice on " + s.path);
  if (!s.failure) return s.failure;
  if (s.num_frames == 0) return invalid_argument("mp4: no frames were written to " + s.path + "; an mp4 needs at least one");
  if (const int err = avcodec_send_frame(s.codec.get(), nullptr); err < 0) {  // enter draining mode
    return s.failure = av_status(err, "mp4: cannot flush the encoder");
  }
  if (Status st = drain_packets(s); !st) return s.failure = st;
  if (const int err = av_write_trailer(s.format); err < 0) {
    return s.failure = av_status(err, "mp4: cannot write the trailer of " + s.partial_path);
  }
  if (const int err = avio_closep(&s.format->pb); err < 0) {
    std::remove(s.partial_path.c_str());
    return s.failure = av_status(err, "mp4: cannot close " + s.partial_path);
  }
  if (s.before_publish) {
    if (Status st = s.before_publish(s.partial_path); !st) {
      std::remove(s.partial_path.c_str());
      return s.failure = st;
    }
  }
  if (std::rename(s.partial_path.c_str(), s.path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(s.partial_path.c_str());
    return s.failure = internal_error("mp4: cannot rename " + s.partial_path + " to " + s.path + ": " +
                                      std::strerror(rename_errno));
  }
  s.finished = true;
  return Status::ok();
}

Mp4Writer::Mp4Writer(std::unique_ptr<detail::Mp4WriterState> state) : state_(std::move(state)) {}
Mp4Writer::Mp4Writer(Mp4Writer&& other) noexcept = default;
Mp4Writer& Mp4Writer::operator=(Mp4Writer&& other) noexcept = default;
Mp4Writer::~Mp4Writer() = default;

int Mp4Writer::width() const { return state_->width; }
int Mp4Writer::height() const { return state_->height; }
int64_t Mp4Writer::num_frames() const { return state_->num_frames; }
const std::string& Mp4Writer::path() const { return state_->path; }
const std::string& Mp4Writer::encoder_name() const { return state_->encoder_name; }

}  // namespace frugal::media
