// PDQ against Meta's reference implementation: tests/data/pdq/reference_hashes.csv holds the hashes
// the ThreatExchange pdq/cpp tool gave for the PNGs beside it (scripts/pdq-reference-hashes makes
// both). Stated tolerance: Meta's own bar for a correct implementation, Hamming distance ≤ 10 on
// images of quality ≥ 80 (pdq/README.md); on these images 5 of 6 hashes are identical and the flat
// colour-bar image differs in 8 bits (float summation order near the median).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "media/image_decoder.h"
#include "trust/pdq.h"

namespace frugal::trust {
namespace {

constexpr int kReferenceTolerance = 10;

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

struct ReferenceRow {
  std::string hex;
  int quality = 0;
  std::string file;
};

std::vector<ReferenceRow> reference_rows() {
  std::vector<ReferenceRow> rows;
  std::istringstream lines(read_file(std::string(FRUGAL_TEST_DATA_DIR) + "/pdq/reference_hashes.csv"));
  std::string line;
  while (std::getline(lines, line)) {
    const size_t a = line.find(','), b = line.find(',', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    rows.push_back({line.substr(0, a), std::stoi(line.substr(a + 1, b - a - 1)), line.substr(b + 1)});
  }
  return rows;
}

Expected<PdqResult> hash_png(const std::string& name) {
  const std::string bytes = read_file(std::string(FRUGAL_TEST_DATA_DIR) + "/pdq/" + name);
  auto image = media::decode_image({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  if (!image) return image.error();
  return pdq_hash_rgb(image->pixels.data(), image->width, image->height, image->pixels.size());
}

TEST(Pdq, MatchesMetaReferenceImplementation) {
  const std::vector<ReferenceRow> rows = reference_rows();
  ASSERT_EQ(rows.size(), 6u);
  int identical = 0;
  for (const ReferenceRow& row : rows) {
    auto ours = hash_png(row.file);
    ASSERT_TRUE(ours) << row.file << ": " << ours.error().to_string();
    auto reference = parse_pdq_hex(row.hex);
    ASSERT_TRUE(reference);
    const int distance = hamming_distance(ours->hash, *reference);
    std::printf("%-26s reference %s q%3d\n%-26s frugal    %s q%3d  distance %d\n", row.file.c_str(), row.hex.c_str(),
                row.quality, "", ours->hash.to_hex().c_str(), ours->quality, distance);
    EXPECT_LE(distance, kReferenceTolerance) << row.file;
    EXPECT_EQ(ours->quality, row.quality) << row.file;
    identical += distance == 0;
  }
  EXPECT_GE(identical, 1);  // bit-exact agreement is the usual case, not luck
}

TEST(Pdq, DifferentImagesAreFarApart) {
  auto a = hash_png("mandelbrot_320x240.png");
  auto b = hash_png("testsrc2_256x256.png");
  ASSERT_TRUE(a && b);
  EXPECT_GT(hamming_distance(a->hash, b->hash), 64);
}

TEST(Pdq, NearDuplicateStaysWithinMatchThreshold) {
  const std::string bytes = read_file(std::string(FRUGAL_TEST_DATA_DIR) + "/pdq/mandelbrot_320x240.png");
  auto image = media::decode_image({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  ASSERT_TRUE(image);
  auto original = pdq_hash_rgb(image->pixels.data(), image->width, image->height, image->pixels.size());
  // Brighten by 20 and add a ±6 pattern: the perceptual hash barely moves.
  std::vector<uint8_t> edited = image->pixels;
  for (size_t i = 0; i < edited.size(); ++i) {
    edited[i] = static_cast<uint8_t>(std::min(255, edited[i] + 20 + static_cast<int>(i * 7919 % 13) - 6));
  }
  auto changed = pdq_hash_rgb(edited.data(), image->width, image->height, edited.size());
  ASSERT_TRUE(original && changed);
  EXPECT_LE(hamming_distance(original->hash, changed->hash), 31);
}

TEST(Pdq, HexRoundTripsAndRejectsBadText) {
  const std::string hex = "998dbb029300d60fc60c761f801fc37bdd0b807b13ead1ef910f328656b6ff52";
  auto hash = parse_pdq_hex(hex);
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->to_hex(), hex);
  EXPECT_EQ(hash->words[15], 0x998d);  // the first four digits are word 15
  EXPECT_TRUE(hash->bit(255));         // 0x9 = 1001: bit 15 of word 15
  EXPECT_FALSE(parse_pdq_hex(hex.substr(1)));
  EXPECT_FALSE(parse_pdq_hex(hex.substr(1) + "g"));
  auto other = parse_pdq_hex("098dbb029300d60fc60c761f801fc37bdd0b807b13ead1ef910f328656b6ff53");
  ASSERT_TRUE(other);
  EXPECT_EQ(hamming_distance(*hash, *other), 3);  // 9→0: two bits, 2→3: one
}

TEST(Pdq, RejectsEmptyOrMisSizedImages) {
  std::vector<uint8_t> pixels(12, 0);
  EXPECT_FALSE(pdq_hash_rgb(pixels.data(), 0, 4, 0));
  EXPECT_FALSE(pdq_hash_rgb(pixels.data(), 2, 2, 11));
  auto tiny = pdq_hash_rgb(pixels.data(), 2, 2, 12);  // a 2×2 image still hashes (every cell one pixel)
  ASSERT_TRUE(tiny);
  EXPECT_EQ(tiny->quality, 0);  // flat: no gradients
}

}  // namespace
}  // namespace frugal::trust
