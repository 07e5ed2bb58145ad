#include "video/samplers/noise.h"

#include <cmath>
#include <numbers>

#include "core/check.h"
#include "core/thread_pool.h"

namespace frugal::video {
namespace {

// Philox4x32 round multipliers and Weyl key increments (Random123 philox.h: the multipliers were
// chosen for avalanche; the increments are the golden ratio and sqrt(3) - 1 in 32-bit fixed point).
constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;
constexpr int kPhiloxRounds = 10;

// 53 random bits make a double in [0, 1) with every value a multiple of 2^-53.
constexpr double kTwoPow53Inv = 1.0 / 9007199254740992.0;

PhiloxCounter philox_round(const PhiloxCounter& ctr, const PhiloxKey& key) {
  const uint64_t prod0 = static_cast<uint64_t>(kPhiloxM0) * ctr[0];
  const uint64_t prod1 = static_cast<uint64_t>(kPhiloxM1) * ctr[2];
  const auto hi0 = static_cast<uint32_t>(prod0 >> 32);
  const auto lo0 = static_cast<uint32_t>(prod0);
  const auto hi1 = static_cast<uint32_t>(prod1 >> 32);
  const auto lo1 = static_cast<uint32_t>(prod1);
  return {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
}

// The two normals of pair `pair` (elements 2 * pair and 2 * pair + 1).
std::array<float, 2> gaussian_pair(uint64_t seed, uint64_t pair) {
  const PhiloxKey key = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
  const PhiloxCounter counter = {static_cast<uint32_t>(pair), static_cast<uint32_t>(pair >> 32), 0u, 0u};
  const PhiloxCounter words = philox4x32_10(counter, key);
  const uint64_t bits1 = (static_cast<uint64_t>(words[1]) << 32 | words[0]) >> 11;
  const uint64_t bits2 = (static_cast<uint64_t>(words[3]) << 32 | words[2]) >> 11;
  const double u1 = static_cast<double>(bits1 + 1) * kTwoPow53Inv;  // (0, 1]: log is finite
  const double u2 = static_cast<double>(bits2) * kTwoPow53Inv;      // [0, 1)
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double theta = 2.0 * std::numbers::pi * u2;
  return {static_cast<float>(radius * std::cos(theta)), static_cast<float>(radius * std::sin(theta))};
}

}  // namespace

PhiloxCounter philox4x32_10(PhiloxCounter counter, PhiloxKey key) {
  for (int round = 0; round < kPhiloxRounds; ++round) {
    if (round > 0) {
      key[0] += kPhiloxW0;
      key[1] += kPhiloxW1;
    }
    counter = philox_round(counter, key);
  }
  return counter;
}

float gaussian_at(uint64_t seed, int64_t index) {
  CHECK(index >= 0, "gaussian_at: negative index");
  const auto i = static_cast<uint64_t>(index);
  return gaussian_pair(seed, i >> 1)[i & 1];
}

void fill_gaussian(uint64_t seed, float* out, int64_t n, int64_t offset) {
  CHECK(n >= 0 && offset >= 0, "fill_gaussian: negative size or offset");
  int64_t k = 0;
  if (n > 0 && (offset & 1) != 0) {  // an odd start takes the second half of its pair
    out[k++] = gaussian_at(seed, offset);
  }
  for (; k + 1 < n; k += 2) {
    const std::array<float, 2> pair = gaussian_pair(seed, static_cast<uint64_t>(offset + k) >> 1);
    out[k] = pair[0];
    out[k + 1] = pair[1];
  }
  if (k < n) out[k] = gaussian_at(seed, offset + k);
}

void fill_gaussian(uint64_t seed, float* out, int64_t n, ThreadPool& pool, int64_t offset) {
  CHECK(n >= 0 && offset >= 0, "fill_gaussian: negative size or offset");
  pool.parallel_for(n, [&](int64_t begin, int64_t end) {
    fill_gaussian(seed, out + begin, end - begin, offset + begin);
  });
}

}  // namespace frugal::video
