#include "video/samplers/dpm_solver_sampler.h"

#include <algorithm>
#include <utility>

#include "video/samplers/flow_math.h"

namespace frugal::video {
namespace {

using flow_math::exp_f32;
using flow_math::lambda_of_sigma;

constexpr int kSolverOrder = 2;

}  // namespace

void DpmSolverSampler::advance(int step_idx, const float* model_output, float* sample, int64_t n) {
  const auto count = static_cast<size_t>(n);
  if (x0_prev_.size() != count) {
    x0_prev_.assign(count, 0.0f);
    x0_prev2_.assign(count, 0.0f);
  }
  // model_outputs shift left, then convert_model_output: x0 = x - sigma * v.
  std::swap(x0_prev2_, x0_prev_);
  const float sigma = sigmas()[static_cast<size_t>(step_idx)];
  for (size_t i = 0; i < count; ++i) x0_prev_[i] = sample[i] - sigma * model_output[i];

  // With final_sigmas_type "zero" the last step is always first order.
  const bool lower_order_final = step_idx == num_steps() - 1;
  if (lower_order_nums_ < 1 || lower_order_final) {
    first_order_update(step_idx, sample, n);
  } else {
    second_order_update(step_idx, sample, n);
  }
  lower_order_nums_ = std::min(lower_order_nums_ + 1, kSolverOrder);
}

// dpm_solver_first_order_update (dpmsolver++):
//   x_t = (sigma_t / sigma_s) * x - (alpha_t * (exp(-h) - 1)) * x0.
void DpmSolverSampler::first_order_update(int step_idx, float* sample, int64_t n) const {
  const auto s = static_cast<size_t>(step_idx);
  const float sigma_t = sigmas()[s + 1];
  const float sigma_s = sigmas()[s];
  const float alpha_t = 1.0f - sigma_t;
  const float h = lambda_of_sigma(sigma_t) - lambda_of_sigma(sigma_s);
  const float coef_x = sigma_t / sigma_s;
  const float coef_m0 = alpha_t * (exp_f32(-h) - 1.0f);
  const float* m0 = x0_prev_.data();
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) sample[i] = coef_x * sample[i] - coef_m0 * m0[i];
}

// multistep_dpm_solver_second_order_update (dpmsolver++, midpoint):
//   r0 = h_0 / h, D1 = (1 / r0) * (m0 - m1),
//   x_t = (sigma_t / sigma_s0) * x - (alpha_t * (exp(-h) - 1)) * m0 - 0.5 * (alpha_t * (exp(-h) - 1)) * D1.
void DpmSolverSampler::second_order_update(int step_idx, float* sample, int64_t n) const {
  const auto s = static_cast<size_t>(step_idx);
  const float sigma_t = sigmas()[s + 1];
  const float sigma_s0 = sigmas()[s];
  const float sigma_s1 = sigmas()[s - 1];
  const float alpha_t = 1.0f - sigma_t;
  const float lambda_s0 = lambda_of_sigma(sigma_s0);
  const float h = lambda_of_sigma(sigma_t) - lambda_s0;
  const float h_0 = lambda_s0 - lambda_of_sigma(sigma_s1);
  const float r0 = h_0 / h;
  const float inv_r0 = 1.0f / r0;  // torch: 1.0 / r0 is reciprocal(r0) * 1.0
  const float coef_x = sigma_t / sigma_s0;
  const float coef_m0 = alpha_t * (exp_f32(-h) - 1.0f);
  const float coef_d1 = 0.5f * coef_m0;
  const float* m0 = x0_prev_.data();
  const float* m1 = x0_prev2_.data();
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    const float d1 = inv_r0 * (m0[i] - m1[i]);
    sample[i] = (coef_x * sample[i] - coef_m0 * m0[i]) - coef_d1 * d1;
  }
}

}  // namespace frugal::video
