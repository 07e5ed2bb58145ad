// Test helpers for the watermark: a natural-ish synthetic clip (smooth shading, texture, a moving
// disc, sharp bars) and PSNR.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "trust/watermark_embed.h"
#include "trust/watermark_key.h"

namespace frugal::trust::testing {

// [frames, height, width, 3] RGB8; `seed` changes the content (phases, texture, disc path).
inline std::vector<uint8_t> natural_clip(int width, int height, int frames, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const double fx = 1 + 3 * u(rng), fy = 1 + 3 * u(rng), phase = 6.28 * u(rng);
  std::vector<float> texture(static_cast<size_t>(width) * height);
  std::normal_distribution<float> noise(0, 6);
  for (float& t : texture) t = noise(rng);
  std::vector<uint8_t> out(static_cast<size_t>(frames) * width * height * 3);
  for (int f = 0; f < frames; ++f) {
    const double cx = width * (0.3 + 0.4 * f / std::max(1, frames - 1)), cy = height * 0.4;
    const double radius = 0.15 * std::min(width, height);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const double nx = static_cast<double>(x) / width, ny = static_cast<double>(y) / height;
        double base = 110 + 60 * std::sin(6.28 * fx * nx + phase) * std::cos(6.28 * fy * ny);
        base += texture[static_cast<size_t>(y) * width + x];
        double r = base + 20 * nx, g = base, b = base - 20 * ny;
        if (std::hypot(x - cx, y - cy) < radius) r = 200, g = 60, b = 50;
        if (x > width * 3 / 4 && (y / std::max(1, height / 12)) % 2 == 0) r = g = b = 235;
        uint8_t* p = &out[((static_cast<size_t>(f) * height + y) * width + x) * 3];
        p[0] = static_cast<uint8_t>(std::clamp(r, 0.0, 255.0));
        p[1] = static_cast<uint8_t>(std::clamp(g, 0.0, 255.0));
        p[2] = static_cast<uint8_t>(std::clamp(b, 0.0, 255.0));
      }
    }
  }
  return out;
}

// A smooth clip (the small-frame case the watermark is specified for): a soft gradient and a
// blurred disc drifting right. [frames, height, width, 3].
inline std::vector<uint8_t> smooth_clip(int width, int height, int frames, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const double base = 60 + 100 * u(rng), slope = 40 * (u(rng) - 0.5);
  std::vector<uint8_t> out(static_cast<size_t>(frames) * width * height * 3);
  for (int f = 0; f < frames; ++f) {
    const double cx = width * (0.3 + 0.3 * f / std::max(1, frames - 1)), cy = height * 0.5, radius = 0.3 * height;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        const double d = std::hypot(x - cx, y - cy) / radius;
        const double v = base + slope * x / width + 40 * std::exp(-d * d);
        uint8_t* p = &out[((static_cast<size_t>(f) * height + y) * width + x) * 3];
        p[0] = static_cast<uint8_t>(std::clamp(v + 15, 0.0, 255.0));
        p[1] = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
        p[2] = static_cast<uint8_t>(std::clamp(v - 10, 0.0, 255.0));
      }
    }
  }
  return out;
}

inline double psnr(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  const double mse = sum / static_cast<double>(a.size());
  return mse > 0 ? 10 * std::log10(255.0 * 255.0 / mse) : 1e9;
}

inline WatermarkKey test_key(uint8_t fill) {
  WatermarkKey key;
  for (size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<uint8_t>(fill + 31 * i);
  return key;
}

// Marks the first n frames of an RGB8 clip [n, h, w, 3] with `options`; returns the marked copy.
inline std::vector<uint8_t> mark_clip(const WatermarkKey& key, uint64_t payload, std::vector<uint8_t> clip, int w, int h,
                                      int n, const WatermarkEmbedOptions& options = {}) {
  auto embedder = WatermarkEmbedder::create(key, payload, w, h, options);
  EXPECT_TRUE(embedder.has_value());
  const size_t frame = static_cast<size_t>(w) * h * 3;
  for (int f = 0; f < n; ++f) embedder->embed_frame(std::span<uint8_t>(clip.data() + f * frame, frame));
  return clip;
}

}  // namespace frugal::trust::testing
