// run_flow_sampler: the whole denoising loop of a flow-matching sampler over one latent, with the
// model as a callback (video samplers layer). The pipeline plugs the DiT (and CFG, cfg.h) in here.
#pragma once

#include <cstdint>
#include <functional>

#include "core/status.h"
#include "video/samplers/sampler_kind.h"

namespace frugal::video {

// Fills v_out [n] with the (already CFG-combined) velocity for the latent x [n] at `timestep`.
// Returns a non-OK Status to abort the run (e.g. kCancelled); run_flow_sampler returns it as is.
using FlowModelFn = std::function<Status(const float* x, float timestep, float* v_out)>;
// Called after each step: step_idx in [0, num_steps), and the timestep that step used.
using FlowProgressFn = std::function<void(int step_idx, int num_steps, float timestep)>;

// Denoises latent [n] in place: on entry the initial noise (sigma ~ 1), on success the sample x0.
// Calls model_fn once per step with the current latent. progress_fn may be empty.
// kInvalidArgument for num_steps/shift out of range (schedule.h) or n <= 0; the latent is untouched
// then. On a model_fn error the latent is left mid-run.
Status run_flow_sampler(SamplerKind kind, int num_steps, double shift, float* latent, int64_t n,
                        const FlowModelFn& model_fn, const FlowProgressFn& progress_fn = {});

}  // namespace frugal::video
