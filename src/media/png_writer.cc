#include "media/png_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "media/av_util.h"
#include "media/libav_log.h"

namespace frugal::media {

namespace {

Status validate(std::span<const uint8_t> rgb, int width, int height) {
  if (width <= 0 || height <= 0) {
    return invalid_argument("png: image size must be positive, got " + std::to_string(width) + "x" +
                            std::to_string(height));
  }
  const size_t expected_bytes = static_cast<size_t>(width) * height * 3;
  if (rgb.size() != expected_bytes) {
    return invalid_argument("png: image has " + std::to_string(rgb.size()) + " bytes, expected " +
                            std::to_string(expected_bytes) + " (" + std::to_string(width) + "x" +
                            std::to_string(height) + " rgb24)");
  }
  return Status::ok();
}

Expected<FramePtr> make_rgb_frame(std::span<const uint8_t> rgb, int width, int height) {
  FramePtr frame(av_frame_alloc());
  if (!frame) return resource_exhausted("png: cannot allocate a frame");
  frame->format = AV_PIX_FMT_RGB24;
  frame->width = width;
  frame->height = height;
  if (const int err = av_frame_get_buffer(frame.get(), 0); err < 0) return av_status(err, "png: frame buffer");
  const size_t row_bytes = static_cast<size_t>(width) * 3;
  for (int row_idx = 0; row_idx < height; ++row_idx) {
    std::memcpy(frame->data[0] + static_cast<ptrdiff_t>(row_idx) * frame->linesize[0], rgb.data() + row_idx * row_bytes,
                row_bytes);
  }
  return frame;
}

Status write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  const std::string partial_path = path + ".partial";
  FILE* file = std::fopen(partial_path.c_str(), "wb");
  if (file == nullptr) {
    const int open_errno = errno;
    std::string message = "png: cannot open " + partial_path + " for writing: " + std::strerror(open_errno);
    return open_errno == ENOENT ? not_found(std::move(message)) : internal_error(std::move(message));
  }
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed) {
    std::remove(partial_path.c_str());
    return internal_error("png: cannot write " + partial_path + ": " + std::strerror(errno));
  }
  if (std::rename(partial_path.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(partial_path.c_str());
    return internal_error("png: cannot rename " + partial_path + " to " + path + ": " + std::strerror(rename_errno));
  }
  return Status::ok();
}

}  // namespace

Expected<std::vector<uint8_t>> encode_png(std::span<const uint8_t> rgb, int width, int height) {
  route_libav_logs();
  if (Status st = validate(rgb, width, height); !st) return st;
  const AVCodec* encoder = avcodec_find_encoder(AV_CODEC_ID_PNG);
  if (encoder == nullptr) return unimplemented("png: this libavcodec has no PNG encoder");
  CodecContextPtr codec(avcodec_alloc_context3(encoder));
  PacketPtr packet(av_packet_alloc());
  if (!codec || !packet) return resource_exhausted("png: cannot allocate the encoder");
  codec->width = width;
  codec->height = height;
  codec->pix_fmt = AV_PIX_FMT_RGB24;
  codec->time_base = AVRational{1, 1};  // required by avcodec_open2; meaningless for a still
  if (const int err = avcodec_open2(codec.get(), encoder, nullptr); err < 0) return av_status(err, "png: open encoder");
  Expected<FramePtr> frame = make_rgb_frame(rgb, width, height);
  if (!frame) return frame.error();
  if (const int err = avcodec_send_frame(codec.get(), frame->get()); err < 0) return av_status(err, "png: encode");
  if (const int err = avcodec_send_frame(codec.get(), nullptr); err < 0) return av_status(err, "png: flush");
  // One frame in, one packet out: the packet is the whole file.
  if (const int err = avcodec_receive_packet(codec.get(), packet.get()); err < 0) return av_status(err, "png: encode");
  return std::vector<uint8_t>(packet->data, packet->data + packet->size);
}

Status write_png(const std::string& path, std::span<const uint8_t> rgb, int width, int height) {
  Expected<std::vector<uint8_t>> bytes = encode_png(rgb, width, height);
  if (!bytes) return bytes.error();
  return write_file(path, *bytes);
}

}  // namespace frugal::media
