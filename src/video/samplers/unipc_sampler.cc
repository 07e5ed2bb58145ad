#include "video/samplers/unipc_sampler.h"

#include <algorithm>
#include <utility>

#include "video/samplers/flow_math.h"

namespace frugal::video {
namespace {

using flow_math::expm1_f32;
using flow_math::lambda_of_sigma;

// The official solver_order.
constexpr int kSolverOrder = 2;

// The bh2 scalars of one UniPC update over a step of log-SNR length h (predict_x0: hh = -h).
struct UniBh2 {
  float hh;       // -h
  float h_phi_1;  // expm1(hh) = e^hh - 1
  float b_h;      // B(h) for bh2: expm1(hh)
};

UniBh2 uni_bh2(float h) {
  const float hh = -h;
  const float h_phi_1 = expm1_f32(hh);
  return {hh, h_phi_1, expm1_f32(hh)};
}

// The UniC-2 weights rhos_c = solve(R, b) with R = [[1, 1], [rk, 1]] (rows: rks^0, rks^1) and
// b_k = h_phi_k * k! / B(h), as the official loop builds them.
//
// torch.linalg.solve (1.13) LU-factors R^T (R is row-major, so R^T is R's memory read
// column-major, no copy) and solves with the transpose. The first column of R^T is [1, 1]: the
// pivot search keeps row 0 (first of equal magnitudes), L21 = 1 * (1 / 1) = 1 and U = [[1, rk],
// [0, 1 - rk]]. Then U^T y = b gives y1 = b1, y2 = (b2 - rk * y1) / (1 - rk), and L^T x = y gives
// x2 = y2, x1 = y1 - x2.
struct UniC2Rhos {
  float rho_d1;  // rhos_c[0]: weight of the older difference D1
  float rho_t;   // rhos_c[1]: weight of D1_t = x0_new - x0_prev
};

UniC2Rhos solve_unic2(const UniBh2& bh, float rk) {
  float h_phi_k = bh.h_phi_1 / bh.hh - 1.0f;
  const float b1 = (h_phi_k * 1.0f) / bh.b_h;
  h_phi_k = h_phi_k / bh.hh - 0.5f;  // 1 / factorial(2)
  const float b2 = (h_phi_k * 2.0f) / bh.b_h;
  const float u22 = 1.0f - 1.0f * rk;
  const float y2 = (b2 - rk * b1) / u22;
  return {b1 - 1.0f * y2, y2};
}

// The scalars one UniP/UniC update over sigma_s0 -> sigma_t shares (predictor and corrector alike).
struct UniStep {
  float lambda_s0;  // log-SNR at sigma_s0
  float h;          // lambda_t - lambda_s0
  UniBh2 bh;
  float coef_x;     // sigma_t / sigma_s0
  float coef_m0;    // alpha_t * h_phi_1
  float coef_res;   // alpha_t * B(h)
};

UniStep uni_step(float sigma_t, float sigma_s0) {
  const float alpha_t = 1.0f - sigma_t;
  UniStep st;
  st.lambda_s0 = lambda_of_sigma(sigma_s0);
  st.h = lambda_of_sigma(sigma_t) - st.lambda_s0;
  st.bh = uni_bh2(st.h);
  st.coef_x = sigma_t / sigma_s0;
  st.coef_m0 = alpha_t * st.bh.h_phi_1;
  st.coef_res = alpha_t * st.bh.b_h;
  return st;
}

}  // namespace

void UniPCSampler::advance(int step_idx, const float* model_output, float* sample, int64_t n) {
  const auto count = static_cast<size_t>(n);
  if (x0_new_.size() != count) {
    x0_new_.assign(count, 0.0f);
    x0_prev_.assign(count, 0.0f);
    x0_prev2_.assign(count, 0.0f);
    last_sample_.assign(count, 0.0f);
  }
  // convert_model_output: x0 = x - sigma * v, from the sample the model saw.
  const float sigma = sigmas()[static_cast<size_t>(step_idx)];
  for (size_t i = 0; i < count; ++i) x0_new_[i] = sample[i] - sigma * model_output[i];

  if (step_idx > 0) correct(step_idx, sample, n);

  // model_outputs shift left: [prev2, prev] <- [prev, new].
  std::swap(x0_prev2_, x0_prev_);
  std::swap(x0_prev_, x0_new_);

  // lower_order_final: the order never exceeds the steps left; warm up one order per step.
  const int order = std::min({kSolverOrder, num_steps() - step_idx, lower_order_nums_ + 1});
  std::copy(sample, sample + n, last_sample_.begin());
  predict(step_idx, order, sample, n);
  last_order_ = order;
  lower_order_nums_ = std::min(lower_order_nums_ + 1, kSolverOrder);
}

// multistep_uni_c_bh_update: refits the step sigma[i-1] -> sigma[i] from last_sample_ with the new
// x0 prediction (model_t = x0_new_). Its order is the previous predictor's.
void UniPCSampler::correct(int step_idx, float* sample, int64_t n) const {
  const auto s = static_cast<size_t>(step_idx);
  const UniStep st = uni_step(sigmas()[s], sigmas()[s - 1]);
  const float h = st.h, lambda_s0 = st.lambda_s0, coef_x = st.coef_x, coef_m0 = st.coef_m0, coef_res = st.coef_res;
  const UniBh2& bh = st.bh;
  const float* m0 = x0_prev_.data();
  const float* model_t = x0_new_.data();
  const float* x = last_sample_.data();
  const auto count = static_cast<size_t>(n);

  if (last_order_ == 1) {
    constexpr float kRhoC = 0.5f;  // the official "simplified version" for order 1
    for (size_t i = 0; i < count; ++i) {
      const float x_t_ = coef_x * x[i] - coef_m0 * m0[i];
      const float d1_t = model_t[i] - m0[i];
      const float corr = 0.0f + kRhoC * d1_t;  // corr_res = 0 (no older differences)
      sample[i] = x_t_ - coef_res * corr;
    }
    return;
  }
  CHECK(last_order_ == 2, "UniC order must be 1 or 2");
  const float rk = (lambda_of_sigma(sigmas()[s - 2]) - lambda_s0) / h;
  const UniC2Rhos rhos = solve_unic2(bh, rk);
  const float* m1 = x0_prev2_.data();
  for (size_t i = 0; i < count; ++i) {
    const float x_t_ = coef_x * x[i] - coef_m0 * m0[i];
    const float d1 = (m1[i] - m0[i]) / rk;
    const float d1_t = model_t[i] - m0[i];
    const float corr = rhos.rho_d1 * d1 + rhos.rho_t * d1_t;
    sample[i] = x_t_ - coef_res * corr;
  }
}

// multistep_uni_p_bh_update: x_t = sigma_t / sigma_s0 * x - alpha_t * h_phi_1 * m0
//                                  - alpha_t * B(h) * rho_p * D1, with rho_p = 0.5 for order 2.
void UniPCSampler::predict(int step_idx, int order, float* sample, int64_t n) const {
  const auto s = static_cast<size_t>(step_idx);
  // sigma_t is 0 on the last step: lambda_t = +inf, h_phi_1 = -1.
  const UniStep st = uni_step(sigmas()[s + 1], sigmas()[s]);
  const float h = st.h, lambda_s0 = st.lambda_s0, coef_x = st.coef_x, coef_m0 = st.coef_m0, coef_res = st.coef_res;
  const float* m0 = x0_prev_.data();
  const auto count = static_cast<size_t>(n);

  if (order == 1) {
    const float no_res = coef_res * 0.0f;  // pred_res = 0
    for (size_t i = 0; i < count; ++i) sample[i] = (coef_x * sample[i] - coef_m0 * m0[i]) - no_res;
    return;
  }
  CHECK(order == 2, "UniP order must be 1 or 2");
  constexpr float kRhoP = 0.5f;  // the official "simplified version" for order 2
  const float rk = (lambda_of_sigma(sigmas()[s - 1]) - lambda_s0) / h;
  const float* m1 = x0_prev2_.data();
  for (size_t i = 0; i < count; ++i) {
    const float x_t_ = coef_x * sample[i] - coef_m0 * m0[i];
    const float d1 = (m1[i] - m0[i]) / rk;
    sample[i] = x_t_ - coef_res * (kRhoP * d1);
  }
}

}  // namespace frugal::video
