// UniPCSampler: Wan2.1's FlowUniPCMultistepScheduler (UniPC for flow matching) with the settings
// WanT2V.generate uses: solver_order 2, bh2, predict_x0, lower_order_final, no disabled corrector
// steps (video samplers layer).
//
// The central idea: each step first turns the velocity into a data prediction
// x0_i = x_i - sigma_i * v_i (from the sample the model saw). From step 1 on, the corrector (UniC)
// then refits the previous step with x0_i and REPLACES the current sample before the predictor
// (UniP) extrapolates from it; so the sample the predictor advances is not the one the model saw.
// Orders: step 0 is first order (warm-up), steps 1.. are order 2, and the last step is first order
// (lower_order_final): with sigma_next = 0 it returns exactly x0_{N-1} = x - sigma * v of the
// sample the model saw.
#pragma once

#include <vector>

#include "video/samplers/flow_sampler.h"

namespace frugal::video {

class UniPCSampler final : public FlowSampler {
 public:
  explicit UniPCSampler(FlowSchedule schedule) : FlowSampler(SamplerKind::kUniPC, std::move(schedule)) {}

 protected:
  void advance(int step_idx, const float* model_output, float* sample, int64_t n) override;

 private:
  // UniC: rewrites sample [n] from last_sample_ and the x0 predictions x0_prev2_, x0_prev_, x0_new_.
  void correct(int step_idx, float* sample, int64_t n) const;
  // UniP of the given order (1 or 2): advances sample [n] from sigma[step_idx] to sigma[step_idx + 1].
  void predict(int step_idx, int order, float* sample, int64_t n) const;

  std::vector<float> x0_new_;    // [n] x0 prediction of this step (scratch until rotated in)
  std::vector<float> x0_prev_;   // [n] x0 prediction of the latest step (model_outputs[-1])
  std::vector<float> x0_prev2_;  // [n] the one before (model_outputs[-2])
  std::vector<float> last_sample_;  // [n] the sample the previous predictor started from
  int last_order_ = 0;              // the previous predictor's order (the corrector's order)
  int lower_order_nums_ = 0;        // warm-up counter, capped at the solver order 2
};

}  // namespace frugal::video
