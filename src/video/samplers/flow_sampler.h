// FlowSampler: one run of a flow-matching sampler over a latent, step by step (video samplers layer).
//
// The caller owns the latent and the model. For each step i in [0, num_steps()):
//   v = model(latent, timesteps()[i])      (the CFG-combined velocity, see cfg.h)
//   sampler.step(v, latent, n)             (latent advances to the next noise level in place)
// After the last step the latent is the denoised x0. A sampler is stateful (multistep solvers keep
// the previous x0 predictions), so use a fresh one per run.
//
// Numerics: every update is float32 element-wise arithmetic in the official code's order of
// operations; the per-step coefficients are float32 scalars computed as torch computes 0-d
// tensors, except that log/exp/expm1 are correctly rounded where torch uses SLEEF's <= 1-ulp
// vector kernels. A coefficient can so differ by 1 ulp on some steps: Euler is bit-identical to
// the official runs (tests/data/wan/sampler_*), UniPC and DPM++ agree to <= 3e-7 of max|x|.
// This code must not be compiled with -ffast-math or FP contraction (FMA) enabled.
//
// Threading: not thread-safe; one thread drives a run. step() is O(n) and single-threaded (a few
// passes over a latent of ~2M floats: milliseconds next to a DiT forward of seconds).
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "core/expected.h"
#include "video/samplers/sampler_kind.h"
#include "video/samplers/schedule.h"

namespace frugal::video {

class FlowSampler {
 public:
  virtual ~FlowSampler() = default;
  FlowSampler(const FlowSampler&) = delete;
  FlowSampler& operator=(const FlowSampler&) = delete;

  SamplerKind kind() const { return kind_; }
  const FlowSchedule& schedule() const { return schedule_; }
  // [num_steps] the timestep the model sees at each step, as a float (UniPC and DPM++ use integers
  // stored exactly; Euler's are not integers).
  const std::vector<float>& timesteps() const { return schedule_.timesteps; }
  // [num_steps + 1] the noise level before each step; the last is 0.
  const std::vector<float>& sigmas() const { return schedule_.sigmas; }
  int num_steps() const { return schedule_.num_steps(); }
  int step_index() const { return step_index_; }  // steps taken so far
  bool done() const { return step_index_ == num_steps(); }
  // The timestep of the next step. Precondition: !done().
  float timestep() const;

  // Advances sample [n] in place by one step, given model_output [n] = the velocity the model
  // predicted for this sample at timestep(). Preconditions: !done(); n > 0 and the same on every
  // call of a run; model_output does not alias sample.
  void step(const float* model_output, float* sample, int64_t n);

 protected:
  FlowSampler(SamplerKind kind, FlowSchedule schedule) : kind_(kind), schedule_(std::move(schedule)) {}
  // One step at step_idx (sigmas()[step_idx] -> sigmas()[step_idx + 1]); n is fixed for the run.
  virtual void advance(int step_idx, const float* model_output, float* sample, int64_t n) = 0;

 private:
  SamplerKind kind_;
  FlowSchedule schedule_;
  int step_index_ = 0;
  int64_t num_elements_ = 0;  // n of the first step; 0 before it
};

// A fresh sampler of the given kind for num_steps steps at the given shift (schedule.h).
// kInvalidArgument for steps or shift out of range.
Expected<std::unique_ptr<FlowSampler>> make_flow_sampler(SamplerKind kind, int num_steps, double shift);

}  // namespace frugal::video
