// Degradations of a clean clip, standing in for what a tiny generator does to its output
// (video/eval layer): sensor-like Gaussian noise and a Gaussian blur. The judge's robustness
// tests and the benchmarks apply them to the reference renderer's clips.
#pragma once

#include <cstdint>

#include "video/eval/rgb_clip.h"

namespace frugal::video {

// Adds independent N(0, sigma^2) noise (in 8-bit levels) to every channel of every pixel, rounded
// and clamped to [0, 255]. Deterministic in seed. Precondition (CHECKed): clip.is_consistent().
void add_gaussian_noise(RgbClip& clip, float sigma, uint64_t seed);

// Blurs every frame with a separable Gaussian of standard deviation sigma pixels (kernel radius
// ceil(3 sigma)), edges clamped. sigma <= 0 leaves the clip unchanged.
// Precondition (CHECKed): clip.is_consistent().
void gaussian_blur(RgbClip& clip, float sigma);

}  // namespace frugal::video
