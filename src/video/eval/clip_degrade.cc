// Noise and blur for the evaluator's robustness checks.
#include "video/eval/clip_degrade.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/check.h"
#include "video/eval/seeded_random.h"

namespace frugal::video {
namespace {

uint8_t to_u8(double v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

std::vector<float> gaussian_kernel(float sigma) {
  const int radius = static_cast<int>(std::ceil(3.0f * sigma));
  std::vector<float> k(2 * radius + 1);
  float sum = 0;
  for (int i = -radius; i <= radius; ++i) {
    k[i + radius] = std::exp(-0.5f * i * i / (sigma * sigma));
    sum += k[i + radius];
  }
  for (float& v : k) v /= sum;
  return k;
}

// One pass along rows (step_x = 1) or columns: src [H, W, 3] -> dst [H, W, 3] as floats.
void blur_pass(const std::vector<float>& src, std::vector<float>& dst, int height, int width, bool along_rows,
               const std::vector<float>& kernel) {
  const int radius = static_cast<int>(kernel.size() / 2);
  for (int row = 0; row < height; ++row) {
    for (int col = 0; col < width; ++col) {
      float acc[3] = {0, 0, 0};
      for (int t = -radius; t <= radius; ++t) {
        const int r = along_rows ? row : std::clamp(row + t, 0, height - 1);
        const int c = along_rows ? std::clamp(col + t, 0, width - 1) : col;
        const float* px = &src[(static_cast<size_t>(r) * width + c) * 3];
        for (int ch = 0; ch < 3; ++ch) acc[ch] += kernel[t + radius] * px[ch];
      }
      float* out = &dst[(static_cast<size_t>(row) * width + col) * 3];
      for (int ch = 0; ch < 3; ++ch) out[ch] = acc[ch];
    }
  }
}

}  // namespace

void add_gaussian_noise(RgbClip& clip, float sigma, uint64_t seed) {
  CHECK(clip.is_consistent(), "add_gaussian_noise: inconsistent clip");
  SeededRandom rng(seed);
  for (uint8_t& v : clip.pixels) v = to_u8(v + sigma * rng.normal());
}

void gaussian_blur(RgbClip& clip, float sigma) {
  CHECK(clip.is_consistent(), "gaussian_blur: inconsistent clip");
  if (sigma <= 0.0f) return;
  const std::vector<float> kernel = gaussian_kernel(sigma);
  const size_t n = clip.frame_bytes();
  std::vector<float> a(n), b(n);
  for (int f = 0; f < clip.num_frames; ++f) {
    uint8_t* frame = clip.frame(f);
    std::copy(frame, frame + n, a.begin());
    blur_pass(a, b, clip.height, clip.width, true, kernel);
    blur_pass(b, a, clip.height, clip.width, false, kernel);
    for (size_t i = 0; i < n; ++i) frame[i] = to_u8(a[i]);
  }
}

}  // namespace frugal::video
