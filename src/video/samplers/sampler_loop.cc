#include "video/samplers/sampler_loop.h"

#include <string>
#include <vector>

#include "video/samplers/flow_sampler.h"

namespace frugal::video {

Status run_flow_sampler(SamplerKind kind, int num_steps, double shift, float* latent, int64_t n,
                        const FlowModelFn& model_fn, const FlowProgressFn& progress_fn) {
  if (n <= 0) return invalid_argument("run_flow_sampler: empty latent (n = " + std::to_string(n) + ")");
  CHECK(latent != nullptr && model_fn, "run_flow_sampler needs a latent and a model");
  Expected<std::unique_ptr<FlowSampler>> sampler = make_flow_sampler(kind, num_steps, shift);
  if (!sampler) return sampler.error();

  std::vector<float> velocity(static_cast<size_t>(n));  // [n]
  while (!(*sampler)->done()) {
    const int step_idx = (*sampler)->step_index();
    const float timestep = (*sampler)->timestep();
    if (Status status = model_fn(latent, timestep, velocity.data()); !status) return status;
    (*sampler)->step(velocity.data(), latent, n);
    if (progress_fn) progress_fn(step_idx, num_steps, timestep);
  }
  return Status::ok();
}

}  // namespace frugal::video
