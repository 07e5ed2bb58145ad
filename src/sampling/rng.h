// SamplerRng: a portable seeded random source for token sampling (sampling layer).
// std::mt19937_64's output sequence is fixed by the C++ standard; the double is built from its top
// 53 bits by hand because std::uniform_real_distribution is implementation-defined.
#pragma once

#include <cstdint>
#include <random>

namespace frugal {

class SamplerRng {
 public:
  explicit SamplerRng(uint64_t seed) : engine_(seed) {}

  void reseed(uint64_t seed) { engine_.seed(seed); }

  // Uniform in [0, 1): 53 random mantissa bits times 2^-53.
  double uniform() {
    constexpr double kTwoPowMinus53 = 1.0 / 9007199254740992.0;
    return static_cast<double>(engine_() >> 11) * kTwoPowMinus53;
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace frugal
