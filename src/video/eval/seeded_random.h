// SeededRandom: a small deterministic generator for the evaluator's renderer and degradations
// (video/eval layer). std::uniform_real_distribution and std::normal_distribution differ between
// standard libraries; these formulas do not, so a seed means the same clip everywhere.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace frugal::video {

class SeededRandom {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1): the top 53 bits of one 64-bit draw.
  double unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  float uniform(float lo, float hi) { return lo + static_cast<float>(unit()) * (hi - lo); }
  // Standard normal by Box-Muller (one value per two uniform draws).
  double normal() {
    const double u1 = 1.0 - unit();  // (0, 1]: log is finite
    const double u2 = unit();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::mt19937_64 engine_;  // mt19937_64's output sequence is fixed by the standard
};

}  // namespace frugal::video
