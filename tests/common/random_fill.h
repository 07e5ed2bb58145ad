// Test helper: seeded random test data. Many older tests still fill their own vectors with
// std::normal_distribution; new tests use these.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace frugal::testing {

// n draws of N(mean, stddev^2) from std::mt19937(seed): the same values for the same seed.
inline std::vector<float> gaussian(int64_t n, uint32_t seed, float mean = 0.0f, float stddev = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(mean, stddev);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(rng);
  return v;
}

}  // namespace frugal::testing
