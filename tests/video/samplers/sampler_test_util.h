// Helpers for the sampler tests: the toy flow model of tests/data/wan/README.md ("Toy sampler
// model") and relative max-difference metrics.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace frugal::video::testing {

// v(x, t) = 0.3 * x + 0.01 * (float32(t) / 1000) + R, float32, left to right.
// x, r, v: [n].
inline void toy_velocity(const float* x, float timestep, const float* r, float* v, int64_t n) {
  const float time_term = 0.01f * (timestep / 1000.0f);
  for (int64_t i = 0; i < n; ++i) v[i] = (0.3f * x[i] + time_term) + r[i];
}

// max|a - ref| / max|ref| over [n] (ref not all zero).
inline double max_rel_diff(const float* a, const float* ref, int64_t n) {
  double max_diff = 0.0;
  double max_ref = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(a[i]) - ref[i]));
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[i])));
  }
  return max_ref > 0.0 ? max_diff / max_ref : max_diff;
}

// max|a - ref|, max|ref| and the cosine similarity of [n] values, printed as the README's fidelity
// line; returns max|a - ref| / max|ref| (max|a - ref| when ref is all zero).
inline double print_fidelity(const char* what, const float* a, const float* ref, int64_t n) {
  double max_diff = 0.0, max_ref = 0.0, dot = 0.0, na = 0.0, nr = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double x = a[i], y = ref[i];
    max_diff = std::max(max_diff, std::fabs(x - y));
    max_ref = std::max(max_ref, std::fabs(y));
    dot += x * y;
    na += x * x;
    nr += y * y;
  }
  const double cosine = (na > 0.0 && nr > 0.0) ? dot / std::sqrt(na * nr) : (na == nr ? 1.0 : 0.0);
  const double rel = max_ref > 0.0 ? max_diff / max_ref : max_diff;
  std::printf("  %-28s max|d| %.3e  max|ref| %.3e  rel %.3e  cos %.9f\n", what, max_diff, max_ref, rel, cosine);
  return rel;
}

inline bool bit_equal(const float* a, const float* b, int64_t n) {
  return std::memcmp(a, b, static_cast<size_t>(n) * sizeof(float)) == 0;
}

// Float distance in units in the last place (0 for equal values, including +0 / -0).
inline int64_t ulp_distance(float a, float b) {
  auto ordered = [](float f) {
    int32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits < 0 ? static_cast<int64_t>(INT32_MIN) - bits : static_cast<int64_t>(bits);
  };
  return std::llabs(ordered(a) - ordered(b));
}

}  // namespace frugal::video::testing
