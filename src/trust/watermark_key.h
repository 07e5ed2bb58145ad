// The watermark's secret key and payload (trust layer): a 256-bit key held in a small hex file, and
// the 64-bit payload a job carries, HMAC-SHA256(key, "frugal-watermark-payload:" + job id) cut to
// its first 8 bytes (big-endian). Whoever holds the key can mark, detect and tie a payload back to a
// job id; without it the chip patterns (watermark_layout.h) are indistinguishable from noise.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/expected.h"

namespace frugal::trust {

struct WatermarkKey {
  std::array<uint8_t, 32> bytes{};  // the HMAC-SHA256 key
};

// A key file holds 64 hexadecimal digits, optionally followed by one newline. Anything else
// (shorter, longer, non-hex) is kInvalidArgument naming the file; a missing file is kNotFound.
Expected<WatermarkKey> load_watermark_key(const std::string& path);
// Loads `path`, or where it does not exist creates it (and its folder) with 32 random bytes from
// OpenSSL's RAND_bytes, mode 0600. *created tells which happened. A malformed existing file is an
// error, never replaced.
Expected<WatermarkKey> load_or_create_watermark_key(const std::string& path, bool* created);
// $FRUGAL_WATERMARK_KEY if set, else <frugal's state folder>/watermark.key (core/state_dir.h: the
// folder the C2PA development credentials live in too).
std::string default_watermark_key_path();

// The 64 payload bits for `job_id` under `key` (bit 63 is the first bit embedded).
uint64_t watermark_payload_for(const WatermarkKey& key, std::string_view job_id);
// "0123456789abcdef" (16 lower-case hex digits).
std::string payload_hex(uint64_t payload);
// HMAC-SHA256(key, message): the one keyed primitive the watermark uses.
std::array<uint8_t, 32> hmac_sha256(const WatermarkKey& key, std::string_view message);

}  // namespace frugal::trust
