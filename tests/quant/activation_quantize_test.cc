// Activation quantizers Q8_0 and Q8_K against hand-computed examples: ties, all-zero blocks,
// sign conventions and bsums (tests/quant).
#include <gtest/gtest.h>

#include <vector>

#include "quant/q8_0.h"
#include "quant/q8_k.h"

namespace frugal {
namespace {

TEST(QuantizeQ8_0, RoundsHalfAwayFromZero) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;  // amax -> d = 1, id = 1
  x[1] = 0.5f;
  x[2] = -0.5f;
  x[3] = 1.5f;
  x[4] = 2.5f;
  x[5] = -63.5f;
  x[6] = 0.49f;
  BlockQ8_0 b;
  Q8_0::quantize(x.data(), b);
  EXPECT_EQ(b.d, 0x3c00);  // f16 1.0
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], 1);
  EXPECT_EQ(b.qs[2], -1);
  EXPECT_EQ(b.qs[3], 2);
  EXPECT_EQ(b.qs[4], 3);
  EXPECT_EQ(b.qs[5], -64);
  EXPECT_EQ(b.qs[6], 0);
  EXPECT_EQ(b.qs[31], 0);
}

TEST(QuantizeQ8_0, ScaleFromAbsMax) {
  std::vector<float> x(32, 1.0f);
  x[7] = -254.0f;  // d = 2, id = 0.5
  x[8] = 3.0f;     // 1.5 -> 2
  x[9] = 5.0f;     // 2.5 -> 3
  BlockQ8_0 b;
  Q8_0::quantize(x.data(), b);
  EXPECT_EQ(b.d, 0x4000);  // f16 2.0
  EXPECT_EQ(b.qs[7], -127);
  EXPECT_EQ(b.qs[8], 2);
  EXPECT_EQ(b.qs[9], 3);
  EXPECT_EQ(b.qs[0], 1);  // 0.5 -> 1 (away from zero)
}

TEST(QuantizeQ8_0, AllZeroBlock) {
  std::vector<float> x(32, 0.0f);
  BlockQ8_0 b;
  Q8_0::quantize(x.data(), b);
  EXPECT_EQ(b.d, 0);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(b.qs[i], 0);
}

TEST(QuantizeQ8_K, SignedMaxTiesToEvenAndBsums) {
  std::vector<float> x(256, 0.0f);
  x[5] = -63.5f;   // first element of largest |x|: max = -63.5, iscale = 2, d = 0.5
  x[9] = 63.5f;    // same magnitude, later: +127
  x[16] = 0.25f;   // 0.5 -> 0 (ties to even)
  x[17] = 0.75f;   // 1.5 -> 2
  x[18] = 1.25f;   // 2.5 -> 2
  x[19] = -0.75f;  // -1.5 -> -2
  x[255] = 10.0f;  // 20
  BlockQ8_K b;
  Q8_K::quantize(x.data(), b);
  EXPECT_FLOAT_EQ(b.d, 0.5f);
  EXPECT_EQ(b.qs[5], -127);
  EXPECT_EQ(b.qs[9], 127);
  EXPECT_EQ(b.qs[16], 0);
  EXPECT_EQ(b.qs[17], 2);
  EXPECT_EQ(b.qs[18], 2);
  EXPECT_EQ(b.qs[19], -2);
  EXPECT_EQ(b.qs[255], 20);
  EXPECT_EQ(b.bsums[0], 0);    // -127 + 127
  EXPECT_EQ(b.bsums[1], 2);    // 0 + 2 + 2 - 2
  EXPECT_EQ(b.bsums[15], 20);
  for (int g = 2; g < 15; ++g) EXPECT_EQ(b.bsums[g], 0);
}

TEST(QuantizeQ8_K, PositiveMaxGivesNegativeScale) {
  std::vector<float> x(256, 1.0f);
  x[100] = 63.5f;  // iscale = -2, d = -0.5
  BlockQ8_K b;
  Q8_K::quantize(x.data(), b);
  EXPECT_FLOAT_EQ(b.d, -0.5f);
  EXPECT_EQ(b.qs[100], -127);
  EXPECT_EQ(b.qs[0], -2);
  EXPECT_EQ(b.bsums[0], -32);
  EXPECT_EQ(b.bsums[6], 15 * -2 - 127);  // group 6 holds element 100
}

TEST(QuantizeQ8_K, AllZeroBlock) {
  std::vector<float> x(256, 0.0f);
  BlockQ8_K b;
  Q8_K::quantize(x.data(), b);
  EXPECT_EQ(b.d, 0.0f);
  for (int i = 0; i < 256; ++i) EXPECT_EQ(b.qs[i], 0);
  for (int g = 0; g < 16; ++g) EXPECT_EQ(b.bsums[g], 0);
}

}  // namespace
}  // namespace frugal
