// The counter-based Gaussian noise: Philox4x32-10 known answers, moments, and independence from
// how the range is split (single call, arbitrary chunks, a thread pool).
#include "video/samplers/noise.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "sampler_test_util.h"

namespace frugal::video {
namespace {

TEST(NoiseTest, Philox4x32_10KnownAnswers) {
  // Random123 kat_vectors (Salmon et al., SC'11), philox4x32 with 10 rounds.
  struct Kat {
    PhiloxCounter counter;
    PhiloxKey key;
    PhiloxCounter expected;
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& kat : kats) EXPECT_EQ(philox4x32_10(kat.counter, kat.key), kat.expected);
}

TEST(NoiseTest, MomentsOfAMillionSamples) {
  constexpr int64_t kCount = 1'000'000;
  std::vector<float> z(kCount);
  fill_gaussian(20250101, z.data(), kCount);
  double sum = 0.0;
  for (float value : z) sum += value;
  const double mean = sum / kCount;
  double m2 = 0.0, m3 = 0.0, m4 = 0.0;
  for (float value : z) {
    const double d = value - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= kCount;
  m3 /= kCount;
  m4 /= kCount;
  const double skewness = m3 / std::pow(m2, 1.5);
  const double excess_kurtosis = m4 / (m2 * m2) - 3.0;
  std::printf("[ noise ] mean %.5f, variance %.5f, skewness %.5f, excess kurtosis %.5f\n", mean, m2, skewness,
              excess_kurtosis);
  // Bounds at 5 standard errors for n = 1e6: sqrt(1/n), sqrt(2/n), sqrt(6/n), sqrt(24/n).
  EXPECT_LT(std::fabs(mean), 0.005);
  EXPECT_LT(std::fabs(m2 - 1.0), 0.0071);
  EXPECT_LT(std::fabs(skewness), 0.0123);
  EXPECT_LT(std::fabs(excess_kurtosis), 0.0245);
  // Tails: P(|z| > 3) = 0.0026998, P(|z| > 4) = 6.334e-5.
  int64_t beyond3 = 0, beyond4 = 0;
  for (float value : z) {
    beyond3 += std::fabs(value) > 3.0f;
    beyond4 += std::fabs(value) > 4.0f;
  }
  EXPECT_NEAR(beyond3, 2700, 5 * 52);  // binomial sd ~ 52
  EXPECT_NEAR(beyond4, 63, 5 * 8);     // sd ~ 8
}

TEST(NoiseTest, ChunkingAndThreadsDoNotChangeTheValues) {
  constexpr int64_t kCount = 100'003;
  constexpr uint64_t kSeed = 0x123456789abcdefULL;
  std::vector<float> whole(kCount);
  fill_gaussian(kSeed, whole.data(), kCount);

  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<float> chunked(kCount, std::nanf(""));
    int64_t begin = 0;
    while (begin < kCount) {
      const int64_t len = std::min<int64_t>(kCount - begin, 1 + static_cast<int64_t>(rng() % 977));
      fill_gaussian(kSeed, chunked.data() + begin, len, begin);
      begin += len;
    }
    ASSERT_TRUE(testing::bit_equal(chunked.data(), whole.data(), kCount)) << "trial " << trial;
  }
  for (int64_t i : {0, 1, 2, 3, 99, 100'002}) EXPECT_EQ(gaussian_at(kSeed, i), whole[i]);
  std::vector<float> empty_ok(1, 42.0f);
  fill_gaussian(kSeed, empty_ok.data(), 0, 5);
  EXPECT_EQ(empty_ok[0], 42.0f);

  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    std::vector<float> parallel(kCount);
    fill_gaussian(kSeed, parallel.data(), kCount, pool);
    EXPECT_TRUE(testing::bit_equal(parallel.data(), whole.data(), kCount)) << threads << " threads";
  }
  // A window far into the stream (a 64-bit pair counter) equals its single-element values.
  std::vector<float> far(5);
  const int64_t far_offset = (int64_t{1} << 40) + 1;
  fill_gaussian(kSeed, far.data(), 5, far_offset);
  for (int64_t k = 0; k < 5; ++k) EXPECT_EQ(far[k], gaussian_at(kSeed, far_offset + k));
}

TEST(NoiseTest, SeedsGiveDifferentStreams) {
  constexpr int64_t kCount = 4096;
  std::vector<float> a(kCount), b(kCount), c(kCount);
  fill_gaussian(1, a.data(), kCount);
  fill_gaussian(2, b.data(), kCount);
  fill_gaussian(uint64_t{1} << 32 | 1, c.data(), kCount);  // differs only in the key's high word
  int same_ab = 0, same_ac = 0;
  double dot = 0.0;
  for (int64_t i = 0; i < kCount; ++i) {
    same_ab += a[i] == b[i];
    same_ac += a[i] == c[i];
    dot += static_cast<double>(a[i]) * b[i];
  }
  EXPECT_EQ(same_ab, 0);
  EXPECT_EQ(same_ac, 0);
  EXPECT_LT(std::fabs(dot / kCount), 5.0 / std::sqrt(static_cast<double>(kCount)));  // uncorrelated
  std::vector<float> again(kCount);
  fill_gaussian(1, again.data(), kCount);
  EXPECT_TRUE(testing::bit_equal(a.data(), again.data(), kCount));
}

}  // namespace
}  // namespace frugal::video
