// EulerSampler: first-order flow-matching Euler, x <- x + (sigma_next - sigma) * v (video samplers
// layer). Not in Wan2.1: it is diffusers' FlowMatchEulerDiscreteScheduler update (shift applied in
// the schedule, schedule.h), the cheapest sampler and the easiest to reason about.
#pragma once

#include "video/samplers/flow_sampler.h"

namespace frugal::video {

class EulerSampler final : public FlowSampler {
 public:
  explicit EulerSampler(FlowSchedule schedule) : FlowSampler(SamplerKind::kEuler, std::move(schedule)) {}

 protected:
  void advance(int step_idx, const float* model_output, float* sample, int64_t n) override {
    const auto s = static_cast<size_t>(step_idx);
    const float dt = sigmas()[s + 1] - sigmas()[s];  // float32, negative
    for (int64_t i = 0; i < n; ++i) sample[i] = sample[i] + dt * model_output[i];
  }
};

}  // namespace frugal::video
