#include "media/image_decoder.h"

#include <climits>
#include <cstring>

#include "media/av_util.h"
#include "media/libav_log.h"

namespace frugal::media {

namespace {

bool starts_with(std::span<const uint8_t> bytes, std::span<const uint8_t> prefix, size_t offset = 0) {
  return bytes.size() >= offset + prefix.size() && std::memcmp(bytes.data() + offset, prefix.data(), prefix.size()) == 0;
}

// The codec a file's first bytes announce, or AV_CODEC_ID_NONE.
AVCodecID sniff_codec(std::span<const uint8_t> bytes) {
  static constexpr uint8_t kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static constexpr uint8_t kJpeg[] = {0xff, 0xd8, 0xff};
  static constexpr uint8_t kRiff[] = {'R', 'I', 'F', 'F'};
  static constexpr uint8_t kWebp[] = {'W', 'E', 'B', 'P'};  // at offset 8, after the RIFF size
  if (starts_with(bytes, kPng)) return AV_CODEC_ID_PNG;
  if (starts_with(bytes, kJpeg)) return AV_CODEC_ID_MJPEG;
  if (starts_with(bytes, kRiff) && starts_with(bytes, kWebp, 8)) return AV_CODEC_ID_WEBP;
  return AV_CODEC_ID_NONE;
}

Expected<CodecContextPtr> open_decoder(AVCodecID codec_id) {
  const AVCodec* decoder = avcodec_find_decoder(codec_id);
  if (decoder == nullptr) {
    return unimplemented(std::string("image: this libavcodec has no ") + avcodec_get_name(codec_id) + " decoder");
  }
  CodecContextPtr codec(avcodec_alloc_context3(decoder));
  if (!codec) return resource_exhausted("image: cannot allocate the decoder");
  if (const int err = avcodec_open2(codec.get(), decoder, nullptr); err < 0) return av_status(err, "image: open decoder");
  return codec;
}

}  // namespace

Expected<RgbImage> decode_image(std::span<const uint8_t> bytes) {
  route_libav_logs();
  const AVCodecID codec_id = sniff_codec(bytes);
  if (codec_id == AV_CODEC_ID_NONE) return invalid_argument("image: not a PNG, JPEG or WebP file");
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return invalid_argument("image: file larger than 2 GiB");
  Expected<CodecContextPtr> codec = open_decoder(codec_id);
  if (!codec) return codec.error();
  PacketPtr packet(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  if (!packet || !frame) return resource_exhausted("image: cannot allocate a packet or frame");
  // av_new_packet adds the zeroed tail padding that libav's bit readers may over-read.
  if (const int err = av_new_packet(packet.get(), static_cast<int>(bytes.size())); err < 0) {
    return av_status(err, "image: packet");
  }
  std::memcpy(packet->data, bytes.data(), bytes.size());
  const char* name = avcodec_get_name(codec_id);
  if (const int err = avcodec_send_packet(codec->get(), packet.get()); err < 0) {
    return av_status(err, std::string("image: corrupt ") + name);
  }
  if (const int err = avcodec_send_packet(codec->get(), nullptr); err < 0) return av_status(err, "image: flush");
  if (const int err = avcodec_receive_frame(codec->get(), frame.get()); err < 0) {
    // EOF here means the decoder consumed the bytes without producing a picture: truncated.
    return err == AVERROR_EOF ? data_loss(std::string("image: truncated ") + name)
                              : av_status(err, std::string("image: corrupt ") + name);
  }
  RgbImage image;
  image.width = frame->width;
  image.height = frame->height;
  image.pixels.resize(static_cast<size_t>(image.width) * image.height * 3);
  SwsPtr sws;
  if (Status st = frame_to_rgb24(*frame, sws, image.pixels.data()); !st) return st;
  return image;
}

}  // namespace frugal::media
