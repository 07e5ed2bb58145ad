#include "video/dit/rope3d.h"

#include <cmath>

#include "core/check.h"

namespace frugal::video {

Rope3d::Rope3d(int64_t head_dim, double theta) : head_dim_(head_dim) {
  CHECK(head_dim > 0 && head_dim % 2 == 0, "Rope3d: head_dim must be positive and even");
  const int64_t pairs = head_dim / 2;
  band_pairs_ = {pairs - 2 * (pairs / 3), pairs / 3, pairs / 3};
  for (size_t axis = 0; axis < 3; ++axis) {
    const int64_t n = band_pairs_[axis];
    const double width = static_cast<double>(2 * n);  // the band's own real width
    cos_[axis].resize(static_cast<size_t>(kMaxRopePositions * n));  // [kMaxRopePositions, n]
    sin_[axis].resize(static_cast<size_t>(kMaxRopePositions * n));
    for (int64_t j = 0; j < n; ++j) {
      // rope_params: 1 / theta^(arange(0, width, 2) / width), float64
      const double freq = 1.0 / std::pow(theta, static_cast<double>(2 * j) / width);
      for (int64_t pos = 0; pos < kMaxRopePositions; ++pos) {
        const double angle = static_cast<double>(pos) * freq;
        cos_[axis][static_cast<size_t>(pos * n + j)] = std::cos(angle);
        sin_[axis][static_cast<size_t>(pos * n + j)] = std::sin(angle);
      }
    }
  }
}

void Rope3d::apply_token(float* x_tok, int64_t n_heads, int64_t f, int64_t h, int64_t w) const {
  const int64_t pos[3] = {f, h, w};
  for (int64_t head = 0; head < n_heads; ++head) {
    float* x = x_tok + head * head_dim_;  // [head_dim]
    int64_t pair = 0;
    for (size_t axis = 0; axis < 3; ++axis) {
      const int64_t n = band_pairs_[axis];
      const double* cs = cos_[axis].data() + pos[axis] * n;
      const double* sn = sin_[axis].data() + pos[axis] * n;
      for (int64_t j = 0; j < n; ++j, ++pair) {
        // (a + ib)(cos + i sin) in float64, then cast (view_as_complex of x.to(float64)).
        const double a = x[2 * pair];
        const double b = x[2 * pair + 1];
        x[2 * pair] = static_cast<float>(a * cs[j] - b * sn[j]);
        x[2 * pair + 1] = static_cast<float>(a * sn[j] + b * cs[j]);
      }
    }
  }
}

void Rope3d::apply(float* x, int64_t n_heads, int64_t frames, int64_t height, int64_t width, ThreadPool& pool) const {
  CHECK(frames >= 1 && frames <= kMaxRopePositions && height >= 1 && height <= kMaxRopePositions && width >= 1 &&
            width <= kMaxRopePositions,
        "Rope3d::apply: grid axis outside [1, kMaxRopePositions]");
  const int64_t row = n_heads * head_dim_;
  pool.parallel_for(frames * height * width, [&](int64_t begin, int64_t end) {
    for (int64_t token = begin; token < end; ++token) {
      const int64_t w = token % width;
      const int64_t h = (token / width) % height;
      const int64_t f = token / (width * height);
      apply_token(x + token * row, n_heads, f, h, w);
    }
  });
}

}  // namespace frugal::video
