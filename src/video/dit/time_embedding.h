// The timestep sinusoid of the Wan2.1 DiT (video/dit layer): sinusoidal_embedding_1d, computed in
// float64 as the official code does, then cast to float32.
#pragma once

#include <cstdint>

namespace frugal::video {

// half = freq_dim / 2, arg_j = timestep * 10000^(-j / half):
//   out = [cos(arg_0..half-1), sin(arg_0..half-1)]   (cos FIRST)   out: [freq_dim], freq_dim even
void timestep_sinusoid(int64_t freq_dim, double timestep, float* out);

}  // namespace frugal::video
