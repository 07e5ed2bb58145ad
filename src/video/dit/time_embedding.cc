#include "video/dit/time_embedding.h"

#include <cmath>

#include "core/check.h"

namespace frugal::video {

void timestep_sinusoid(int64_t freq_dim, double timestep, float* out) {
  CHECK(freq_dim > 0 && freq_dim % 2 == 0, "timestep_sinusoid: freq_dim must be positive and even");
  const int64_t half = freq_dim / 2;
  for (int64_t j = 0; j < half; ++j) {
    // torch.pow(10000, -arange(half).div(half)) in float64, then outer with the position.
    const double arg = timestep * std::pow(10000.0, -(static_cast<double>(j) / static_cast<double>(half)));
    out[j] = static_cast<float>(std::cos(arg));
    out[half + j] = static_cast<float>(std::sin(arg));
  }
}

}  // namespace frugal::video
