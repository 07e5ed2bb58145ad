// Block layouts: hand-built blocks decoded by dequantize_rows, checked against values derived by
// hand from the GGML block specifications (tests/quant).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "quant/q4_0.h"
#include "quant/q4_k.h"
#include "quant/q5_0.h"
#include "quant/q5_k.h"
#include "quant/q6_k.h"
#include "quant/q8_0.h"
#include "quant/quantize.h"

namespace frugal {
namespace {

template <typename Block>
std::vector<float> decode(DType dtype, const Block& b, int64_t elems) {
  auto r = dequantize_rows(dtype, &b, 1, elems);
  EXPECT_TRUE(r.has_value()) << r.error().to_string();
  return r.has_value() ? *r : std::vector<float>(static_cast<size_t>(elems));
}

constexpr uint16_t kF16Quarter = 0x3400, kF16Half = 0x3800, kF16One = 0x3c00, kF16Two = 0x4000;

TEST(BlockLayout, Q4_0NibbleOrder) {
  BlockQ4_0 b;
  b.d = kF16Half;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto y = decode(DType::kQ4_0, b, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_FLOAT_EQ(y[j], (j - 8) * 0.5f) << j;          // low nibble -> element j
    EXPECT_FLOAT_EQ(y[j + 16], (7 - j) * 0.5f) << j;     // high nibble -> element j + 16
  }
  EXPECT_FLOAT_EQ(y[0], -4.0f);
  EXPECT_FLOAT_EQ(y[16], 3.5f);
}

TEST(BlockLayout, Q5_0HighBits) {
  BlockQ5_0 b;
  b.d = kF16Quarter;
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const uint32_t qh = 0xa5a50f01u;  // little-endian: byte 0 = 0x01
  std::memcpy(b.qh, &qh, 4);
  const auto y = decode(DType::kQ5_0, b, 32);
  for (int i = 0; i < 32; ++i) {
    const int low = i < 16 ? i : 15 - (i - 16);
    const int level = low + (((qh >> i) & 1) ? 16 : 0);
    EXPECT_FLOAT_EQ(y[i], (level - 16) * 0.25f) << i;
  }
  EXPECT_FLOAT_EQ(y[0], 0.0f);     // level 0 + 16
  EXPECT_FLOAT_EQ(y[1], -3.75f);   // level 1
  EXPECT_FLOAT_EQ(y[31], 0.0f);    // low 0, qh bit 31 set
}

TEST(BlockLayout, Q8_0) {
  BlockQ8_0 b;
  b.d = kF16Two;
  for (int i = 0; i < 32; ++i) b.qs[i] = static_cast<int8_t>(i * 8 - 128);
  const auto y = decode(DType::kQ8_0, b, 32);
  for (int i = 0; i < 32; ++i) EXPECT_FLOAT_EQ(y[i], (i * 8 - 128) * 2.0f) << i;
}

// Scales {1,2,3,4,17,33,50,63} and mins {0,5,10,15,20,40,60,63} packed by hand per the spec.
constexpr uint8_t kPackedScales[12] = {0x41, 0x82, 0xc3, 0xc4, 0x40, 0x85,
                                       0xca, 0xcf, 0x41, 0x81, 0xc2, 0xff};
constexpr int kScales[8] = {1, 2, 3, 4, 17, 33, 50, 63};
constexpr int kMins[8] = {0, 5, 10, 15, 20, 40, 60, 63};

TEST(BlockLayout, Q4_KScalesAndNibbles) {
  BlockQ4_K b;
  b.d = kF16One;
  b.dmin = kF16Half;
  std::memcpy(b.scales, kPackedScales, 12);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>(i);
  const auto y = decode(DType::kQ4_K, b, 256);
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      const int byte = 32 * c + l;
      EXPECT_FLOAT_EQ(y[64 * c + l], kScales[2 * c] * (byte & 15) - 0.5f * kMins[2 * c]);
      EXPECT_FLOAT_EQ(y[64 * c + 32 + l], kScales[2 * c + 1] * (byte >> 4) - 0.5f * kMins[2 * c + 1]);
    }
  }
  EXPECT_FLOAT_EQ(y[0], 0.0f);
  EXPECT_FLOAT_EQ(y[40], -2.5f);
  EXPECT_FLOAT_EQ(y[133], 75.0f);
  EXPECT_FLOAT_EQ(y[255], 409.5f);
}

TEST(BlockLayout, Q5_KHighBits) {
  BlockQ5_K b;
  b.d = kF16One;
  b.dmin = kF16Half;
  std::memcpy(b.scales, kPackedScales, 12);
  for (int i = 0; i < 128; ++i) b.qs[i] = static_cast<uint8_t>(i);
  for (int l = 0; l < 32; ++l) b.qh[l] = static_cast<uint8_t>(l * 37);
  const auto y = decode(DType::kQ5_K, b, 256);
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) {
      const int byte = 32 * c + l;
      const int lo = (byte & 15) + (((b.qh[l] >> (2 * c)) & 1) << 4);
      const int hi = (byte >> 4) + (((b.qh[l] >> (2 * c + 1)) & 1) << 4);
      EXPECT_FLOAT_EQ(y[64 * c + l], kScales[2 * c] * lo - 0.5f * kMins[2 * c]);
      EXPECT_FLOAT_EQ(y[64 * c + 32 + l], kScales[2 * c + 1] * hi - 0.5f * kMins[2 * c + 1]);
    }
  }
  // Element 35: c=0, l=3, qs[3]>>4 = 0, qh[3] = 111 = 0b1101111 -> bit 1 set -> level 16.
  EXPECT_FLOAT_EQ(y[35], 2.0f * 16 - 0.5f * 5);
}

TEST(BlockLayout, Q6_KHalvesAndSignedScales) {
  BlockQ6_K b;
  b.d = kF16Half;
  for (int i = 0; i < 128; ++i) b.ql[i] = static_cast<uint8_t>(i * 7);
  for (int i = 0; i < 64; ++i) b.qh[i] = static_cast<uint8_t>(i * 13);
  for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<int8_t>(g - 8);
  const auto y = decode(DType::kQ6_K, b, 256);
  for (int i = 0; i < 256; ++i) {
    const int half = i / 128, part = (i % 128) / 32, l = i % 32;
    const uint8_t ql = b.ql[64 * half + l + (part % 2 == 1 ? 32 : 0)];
    const int low = part < 2 ? (ql & 15) : (ql >> 4);
    const int high = (b.qh[32 * half + l] >> (2 * part)) & 3;
    EXPECT_FLOAT_EQ(y[i], 0.5f * (i / 16 - 8) * ((low | (high << 4)) - 32)) << i;
  }
  EXPECT_FLOAT_EQ(y[0], 128.0f);
  EXPECT_FLOAT_EQ(y[255], -87.5f);
}

}  // namespace
}  // namespace frugal
