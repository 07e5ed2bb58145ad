// Scalar reference dot products, one template per family over the quant format traits
// (kernels layer). Integer sums are exact per block, then scaled in f32 as ggml does.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/fp16.h"
#include "quant/q8_0.h"
#include "quant/q8_k.h"
#include "quant/unpacked.h"

namespace frugal::ref {

// Type-0 weights (Q4_0, Q5_0, Q8_0) x Q8_0 activations: sum_b d_w*d_a*isum_b.
template <typename Format>
float vec_dot_type0(int64_t k, const void* w_row, const void* act_row) {
  const auto* w = static_cast<const uint8_t*>(w_row);
  const auto* a = static_cast<const uint8_t*>(act_row);
  float sum = 0.0f;
  Unpacked32 u;
  for (int64_t b = 0; b < k / Format::kBlockElems; ++b) {
    Format::unpack(load_block<typename Format::Block>(w + b * sizeof(typename Format::Block)), u);
    const auto act = load_block<BlockQ8_0>(a + b * sizeof(BlockQ8_0));
    int32_t isum = 0;
    for (int i = 0; i < Unpacked32::kElems; ++i) isum += u.q[i] * act.qs[i];
    sum += static_cast<float>(isum) * (u.d * f16_to_f32(act.d));
  }
  return sum;
}

// K-quant weights (Q4_K, Q5_K, Q6_K) x Q8_K activations:
// sum_b d_a * (d_w * sum_g scale_g * isum_g - dmin_w * sum_g min_g * bsums_g).
template <typename Format>
float vec_dot_k(int64_t k, const void* w_row, const void* act_row) {
  const auto* w = static_cast<const uint8_t*>(w_row);
  const auto* a = static_cast<const uint8_t*>(act_row);
  float sum = 0.0f;
  UnpackedK u;
  for (int64_t b = 0; b < k / Format::kBlockElems; ++b) {
    Format::unpack(load_block<typename Format::Block>(w + b * sizeof(typename Format::Block)), u);
    const auto act = load_block<BlockQ8_K>(a + b * sizeof(BlockQ8_K));
    int32_t isum = 0, min_sum = 0;
    for (int g = 0; g < UnpackedK::kGroups; ++g) {
      int32_t group_sum = 0;
      for (int i = g * UnpackedK::kGroupElems; i < (g + 1) * UnpackedK::kGroupElems; ++i) {
        group_sum += u.q[i] * act.qs[i];
      }
      isum += u.scale[g] * group_sum;
      min_sum += u.min[g] * act.bsums[g];
    }
    sum += act.d * (u.d * static_cast<float>(isum)) - act.d * (u.dmin * static_cast<float>(min_sum));
  }
  return sum;
}

// Float weights x activations of the same element format, accumulated in double (the most
// accurate reference; ISA kernels sum in f32 lanes).
template <typename Format>
float vec_dot_float(int64_t k, const void* w_row, const void* act_row) {
  const auto* w = static_cast<const uint8_t*>(w_row);
  const auto* a = static_cast<const uint8_t*>(act_row);
  using Elem = typename Format::Elem;
  double sum = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    Elem we, ae;
    std::memcpy(&we, w + i * sizeof(Elem), sizeof(Elem));
    std::memcpy(&ae, a + i * sizeof(Elem), sizeof(Elem));
    sum += static_cast<double>(Format::to_f32(we)) * static_cast<double>(Format::to_f32(ae));
  }
  return static_cast<float>(sum);
}

}  // namespace frugal::ref
