// PNG encoding of one RGB8 frame with libavcodec's PNG encoder (media layer): stills and
// thumbnails, without a libpng dependency. Lossless: decoding gives back the exact bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/expected.h"
#include "core/status.h"

namespace frugal::media {

// rgb: [height, width, 3]; its size must be width * height * 3 and both sizes positive.
// Returns the complete PNG file (signature, IHDR, IDAT..., IEND).
Expected<std::vector<uint8_t>> encode_png(std::span<const uint8_t> rgb, int width, int height);

// encode_png, then writes the bytes to `path` (via `<path>.partial` and a rename, so the file is
// either absent or complete).
Status write_png(const std::string& path, std::span<const uint8_t> rgb, int width, int height);

}  // namespace frugal::media
