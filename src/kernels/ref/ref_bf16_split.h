// Scalar reference of the bf16 split that the AMX-BF16 F16 prefill uses (kernels layer).
//
// An f32 value x is written as hi + lo with hi = bf16(x) (round to nearest even) and lo =
// bf16(x - hi). For an F16 weight this is exact (11 significant bits: hi keeps 8, lo the other <= 3);
// for an f32 activation it keeps 16 significant bits (|x - hi - lo| <= 2^-17 |x|).
// "bf16x3" dots w . a as sum_i wh*ah + wh*al + wl*ah (each product exact in f32; the dropped
// wl*al is <= 2^-16 |w a|); "bf16x1" as sum_i wh*ah (relative error ~2^-8 per product).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace frugal::ref {

// x's bf16 bits, rounded to nearest even (x finite).
inline uint16_t bf16_rne_bits(float x) {
  const uint32_t bits = std::bit_cast<uint32_t>(x);
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

inline float bf16_bits_to_f32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

// x[n] -> hi[n], lo[n] (lo may be null: hi only).
inline void split_bf16(const float* x, int64_t n, uint16_t* hi, uint16_t* lo) {
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = bf16_rne_bits(x[i]);
    hi[i] = h;
    if (lo != nullptr) lo[i] = bf16_rne_bits(x[i] - bf16_bits_to_f32(h));
  }
}

// Tokens [t_begin, t_end) of x [n, k] (k % 32 == 0) split into tile-ordered planes: token t's
// elements 32j .. 32j + 31 at hi[((t / 16) * (k / 32) + j) * 512 + (t % 16) * 32] (one AMX A tile,
// 16 tokens x 32 elements, is 1 KiB contiguous); lo likewise (may be null).
inline void split_bf16_tiles(const float* x, int64_t k, int64_t t_begin, int64_t t_end, uint16_t* hi, uint16_t* lo) {
  for (int64_t t = t_begin; t < t_end; ++t) {
    for (int64_t j = 0; j < k / 32; ++j) {
      const int64_t at = ((t / 16) * (k / 32) + j) * 512 + (t % 16) * 32;
      split_bf16(x + t * k + 32 * j, 32, hi + at, lo != nullptr ? lo + at : nullptr);
    }
  }
}

// The element i of token t in split_bf16_tiles' planes.
inline int64_t bf16_tile_index(int64_t k, int64_t t, int64_t i) {
  return ((t / 16) * (k / 32) + i / 32) * 512 + (t % 16) * 32 + i % 32;
}

// The bf16x3 (lo planes given) or bf16x1 (a_lo == nullptr) dot of one weight row w (f32 values,
// e.g. F16 converted exactly) with one activation row split into a_hi / a_lo; every product is
// exact, summed in double (the AMX kernel sums in f32, in its own order).
inline double bf16_split_dot(int64_t k, const float* w, const uint16_t* a_hi, const uint16_t* a_lo) {
  double acc = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    const float wh = bf16_bits_to_f32(bf16_rne_bits(w[i]));
    const float ah = bf16_bits_to_f32(a_hi[i]);
    acc += static_cast<double>(wh) * ah;
    if (a_lo != nullptr) {
      const float wl = w[i] - wh;  // exact for F16 w
      acc += static_cast<double>(wh) * bf16_bits_to_f32(a_lo[i]) + static_cast<double>(wl) * ah;
    }
  }
  return acc;
}

}  // namespace frugal::ref
