// Test helper for the convolution tests (tests/ops): the convolution straight from its definition in
// double, its error measure, and an f32 weight [c_out, c_in * kt * kh * kw] viewed as the matrix ops::conv3d takes.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ops/conv.h"

namespace frugal::testing {

inline TensorView conv_weight_view(const std::vector<float>& w, const Conv3dParams& p) {
  TensorView v;
  v.dtype = DType::kF32;
  v.n_dims = 2;
  v.ne = {p.k(), p.c_out, 1, 1};
  v.data = w.data();
  return v;
}

// out [c_out, T_out, H_out, W_out] from frames (null = zero) of [c_in, height, width]; bias may be empty.
inline std::vector<float> reference_conv(const std::vector<ConvFrame>& frames, int64_t height, int64_t width,
                                         const Conv3dParams& p, const std::vector<float>& w,
                                         const std::vector<float>& bias) {
  const int64_t t_out = conv_out_size(static_cast<int64_t>(frames.size()), p.kernel_t, p.stride_t, 0, 0);
  const int64_t u = p.upsample, up_height = height * u, up_width = width * u;
  const int64_t h_out = conv_out_size(up_height, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom);
  const int64_t w_out = conv_out_size(up_width, p.kernel_w, p.stride_w, p.pad_left, p.pad_right);
  std::vector<float> out(static_cast<size_t>(p.c_out * t_out * h_out * w_out));
  for (int64_t co = 0; co < p.c_out; ++co) {
    for (int64_t t = 0; t < t_out; ++t) {
      for (int64_t ho = 0; ho < h_out; ++ho) {
        for (int64_t wo = 0; wo < w_out; ++wo) {
          double acc = bias.empty() ? 0.0 : bias[static_cast<size_t>(co)];
          for (int64_t ci = 0; ci < p.c_in; ++ci) {
            for (int64_t dt = 0; dt < p.kernel_t; ++dt) {
              const ConvFrame& f = frames[static_cast<size_t>(t * p.stride_t + dt)];
              if (f.data == nullptr) continue;
              for (int64_t dh = 0; dh < p.kernel_h; ++dh) {
                const int64_t hi = ho * p.stride_h - p.pad_top + dh;
                if (hi < 0 || hi >= up_height) continue;
                for (int64_t dw = 0; dw < p.kernel_w; ++dw) {
                  const int64_t wi = wo * p.stride_w - p.pad_left + dw;
                  if (wi < 0 || wi >= up_width) continue;
                  const double wv = w[static_cast<size_t>(((co * p.c_in + ci) * p.kernel_t + dt) * p.kernel_h * p.kernel_w +
                                                          dh * p.kernel_w + dw)];
                  acc += wv * f.data[ci * f.channel_stride + (hi / u) * width + wi / u];
                }
              }
            }
          }
          out[static_cast<size_t>(((co * t_out + t) * h_out + ho) * w_out + wo)] = static_cast<float>(acc);
        }
      }
    }
  }
  return out;
}

// max |got - ref| / max |ref| (ref all zero: the absolute difference over 1e-30).
inline double max_rel_error(const std::vector<float>& got, const std::vector<float>& ref) {
  double max_diff = 0.0, max_ref = 1e-30;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(got[i]) - ref[i]));
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[i])));
  }
  return max_diff / max_ref;
}

}  // namespace frugal::testing
