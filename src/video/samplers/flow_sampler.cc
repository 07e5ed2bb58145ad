#include "video/samplers/flow_sampler.h"

#include "video/samplers/dpm_solver_sampler.h"
#include "video/samplers/euler_sampler.h"
#include "video/samplers/unipc_sampler.h"

namespace frugal::video {

float FlowSampler::timestep() const {
  CHECK(!done(), "FlowSampler::timestep() after the last step");
  return schedule_.timesteps[static_cast<size_t>(step_index_)];
}

void FlowSampler::step(const float* model_output, float* sample, int64_t n) {
  CHECK(!done(), "FlowSampler::step() after the last step");
  CHECK(n > 0, "FlowSampler::step() needs a non-empty latent");
  CHECK(num_elements_ == 0 || num_elements_ == n, "FlowSampler::step(): the latent size changed mid-run");
  CHECK(model_output != sample, "FlowSampler::step(): model_output aliases sample");
  num_elements_ = n;
  advance(step_index_, model_output, sample, n);
  ++step_index_;
}

Expected<std::unique_ptr<FlowSampler>> make_flow_sampler(SamplerKind kind, int num_steps, double shift) {
  Expected<FlowSchedule> schedule = make_flow_schedule(kind, num_steps, shift);
  if (!schedule) return schedule.error();
  switch (kind) {
    case SamplerKind::kUniPC:
      return std::unique_ptr<FlowSampler>(new UniPCSampler(std::move(*schedule)));
    case SamplerKind::kDpmPlusPlus:
      return std::unique_ptr<FlowSampler>(new DpmSolverSampler(std::move(*schedule)));
    case SamplerKind::kEuler:
      return std::unique_ptr<FlowSampler>(new EulerSampler(std::move(*schedule)));
  }
  return internal_error("unknown SamplerKind");
}

}  // namespace frugal::video
