// FlowSchedule: the per-step timesteps and noise levels (sigmas) of a flow-matching sampler, exactly
// as Wan2.1's WanT2V.generate sets them up (video samplers layer).
//
// A flow-matching latent at noise level sigma is x = (1 - sigma) * x0 + sigma * noise; the model
// predicts the velocity v = noise - x0 at timestep t ~ 1000 * sigma. All three schedules start
// from evenly spaced sigmas in [0, 1] and apply the resolution shift s * sigma / (1 + (s - 1) * sigma),
// computed in float64 as numpy does, then stored as float32 with a final 0.
//   UniPC : linspace(0.999, 0, N + 1)[:-1] (0.999 = float32(1 - 1/1000), the top of the 1000-step
//           training table), shifted; t = int64(sigma * 1000), truncated, so t[0] = 999.
//   DPM++ : get_sampling_sigmas = linspace(1, 0, N + 1)[:N], shifted; t truncated, so t[0] = 1000.
//   Euler : the DPM++ sigmas; t = float32(sigma) * 1000 in float32 (diffusers), not truncated.
#pragma once

#include <vector>

#include "core/expected.h"
#include "video/samplers/sampler_kind.h"

namespace frugal::video {

// Bounds on the user's request. Above 1000 steps (the training table's size) the integer
// timesteps repeat, which the official schedulers do not support.
inline constexpr int kMaxFlowSteps = 1000;
// Wan2.1 uses 3.0 (480p) to 5.0 (720p); the bound only rejects nonsense.
inline constexpr double kMaxFlowShift = 1000.0;

struct FlowSchedule {
  std::vector<float> timesteps;  // [num_steps] t given to the model at step i (UniPC/DPM++: integers)
  std::vector<float> sigmas;     // [num_steps + 1] float32 noise levels, decreasing; sigmas[num_steps] == 0
  int num_steps() const { return static_cast<int>(timesteps.size()); }
};

// kInvalidArgument unless 1 <= num_steps <= kMaxFlowSteps and 0 < shift <= kMaxFlowShift.
Status check_flow_params(int num_steps, double shift);

// The schedule that `kind` runs with for num_steps steps at the given shift.
Expected<FlowSchedule> make_flow_schedule(SamplerKind kind, int num_steps, double shift);

}  // namespace frugal::video
