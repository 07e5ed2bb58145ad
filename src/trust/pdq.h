// PDQ: Meta's open perceptual image hash (trust layer), written from the algorithm's description
// (facebook/ThreatExchange, pdq/ and hashing/hashing.pdf): no code of the reference is used.
//   1. luma Y = 0.299 R + 0.587 G + 0.114 B, as float, [rows, cols];
//   2. Jarosz filter: a clipped-window box filter along rows then along columns, twice (a tent);
//      window = ceil(old / (2 · 64)) per axis, so each of 64×64 output cells averages its area;
//   3. decimation to 64×64 by sampling the filtered image at cell centres;
//   4. 2D DCT-II, keeping coefficients 1..16 on each axis (the DC row and column are dropped): 16×16;
//   5. bit (row · 16 + col) is 1 when that coefficient is above the median of the 256 (the 128th
//      smallest), so about half the bits are set;
//   6. quality 0..100: the summed absolute neighbour differences of the 64×64 image (in percent of
//      full scale) / 90, clamped — featureless images score low and should not be matched.
// Hex text is the reference tool's: 64 lowercase hex digits, 16-bit word 15 first (bits 255..240),
// each word's high nibble first. Two hashes of the same picture usually differ in 0 to a few bits;
// Meta's recommended match threshold is a Hamming distance ≤ 31 of 256.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "core/expected.h"

namespace frugal::trust {

struct PdqHash {
  std::array<uint16_t, 16> words{};  // bit k is words[k / 16] >> (k % 16) & 1; k = row · 16 + col of the DCT

  bool bit(int k) const { return (words[static_cast<size_t>(k / 16)] >> (k % 16)) & 1u; }
  std::string to_hex() const;
  bool operator==(const PdqHash&) const = default;
};

struct PdqResult {
  PdqHash hash;
  int quality = 0;  // 0..100
};

// kInvalidArgument unless `text` is exactly 64 hex digits (either case).
Expected<PdqHash> parse_pdq_hex(const std::string& text);
// Bits that differ, 0..256.
int hamming_distance(const PdqHash& a, const PdqHash& b);

// rgb: [height, width, 3] 8-bit R G B, rows top to bottom. kInvalidArgument for an empty image or
// a size that does not match.
Expected<PdqResult> pdq_hash_rgb(const uint8_t* rgb, int width, int height, size_t size_bytes);

}  // namespace frugal::trust
