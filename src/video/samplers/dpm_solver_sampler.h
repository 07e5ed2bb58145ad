// DpmSolverSampler: Wan2.1's FlowDPMSolverMultistepScheduler (DPM-Solver++ for flow matching) with
// the settings WanT2V.generate uses: algorithm dpmsolver++, solver_order 2, midpoint,
// lower_order_final, final sigma 0 (video samplers layer).
//
// Each step turns the velocity into x0_i = x_i - sigma_i * v_i and takes an exponential-integrator
// step in log-SNR lambda = log((1 - sigma) / sigma). Step 0 is first order (DDIM-like: its sigma
// is 1, lambda = -inf), steps 1.. use the midpoint second-order update with the previous x0 (at
// step 1 the older lambda is -inf, so the second-order term is exactly 0), and the last step is
// first order, which with sigma_next = 0 returns x0_{N-1}.
#pragma once

#include <vector>

#include "video/samplers/flow_sampler.h"

namespace frugal::video {

class DpmSolverSampler final : public FlowSampler {
 public:
  explicit DpmSolverSampler(FlowSchedule schedule)
      : FlowSampler(SamplerKind::kDpmPlusPlus, std::move(schedule)) {}

 protected:
  void advance(int step_idx, const float* model_output, float* sample, int64_t n) override;

 private:
  void first_order_update(int step_idx, float* sample, int64_t n) const;
  void second_order_update(int step_idx, float* sample, int64_t n) const;

  std::vector<float> x0_prev_;   // [n] x0 prediction of this step (model_outputs[-1])
  std::vector<float> x0_prev2_;  // [n] the previous step's (model_outputs[-2])
  int lower_order_nums_ = 0;     // warm-up counter, capped at the solver order 2
};

}  // namespace frugal::video
