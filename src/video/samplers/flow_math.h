// Scalar float32 helpers shared by the multistep flow samplers (video samplers layer, internal).
// They reproduce how torch evaluates the official schedulers' 0-d float32 tensor arithmetic:
// every operation rounds to float32, in the order the Python expression is written.
#pragma once

#include <cmath>

namespace frugal::video::flow_math {

// torch.log / torch.expm1 / torch.exp of a 0-d float32 tensor, correctly rounded: evaluated in
// double and rounded once (double's 29 extra bits make a wrong rounding vanishingly rare). torch
// evaluates them with SLEEF's vector kernels (<= 1 ulp; glibc's expm1f is not correctly rounded
// either), so a coefficient can differ from torch's by 1 ulp on some steps; see flow_sampler.h.
inline float log_f32(float x) { return static_cast<float>(std::log(static_cast<double>(x))); }
inline float expm1_f32(float x) { return static_cast<float>(std::expm1(static_cast<double>(x))); }
inline float exp_f32(float x) { return static_cast<float>(std::exp(static_cast<double>(x))); }

// The half log-SNR of a flow-matching noise level: alpha = 1 - sigma,
// lambda = log(alpha) - log(sigma). +inf at sigma = 0, -inf at sigma = 1.
inline float lambda_of_sigma(float sigma) {
  const float alpha = 1.0f - sigma;
  return log_f32(alpha) - log_f32(sigma);
}

}  // namespace frugal::video::flow_math
