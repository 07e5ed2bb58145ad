// Decodes one still image (PNG, JPEG or WebP, told apart by signature) to RGB8 with libavcodec
// (media layer): image-to-video inputs, thumbnails read back, and tests of png_writer.
#pragma once

#include <cstdint>
#include <span>

#include "core/expected.h"
#include "media/media_types.h"

namespace frugal::media {

// `bytes`: a whole image file. Alpha, where present, is dropped (not composited).
// Errors: kInvalidArgument for an unknown signature, kDataLoss for a corrupt or truncated image.
Expected<RgbImage> decode_image(std::span<const uint8_t> bytes);

}  // namespace frugal::media
