#include "video/samplers/schedule.h"

#include <cmath>
#include <cstdint>
#include <string>

namespace frugal::video {
namespace {

// The official code's num_train_timesteps: t = sigma * 1000.
constexpr double kNumTrainTimesteps = 1000.0;

// numpy.linspace(start, stop, num) (endpoint=True) with numpy's float64 operations: step = (stop -
// start) / (num - 1), y[i] = i * step + start (two roundings, no FMA), y[num - 1] = stop.
// Precondition: num >= 2 and start != stop (no denormal-step special case needed).
std::vector<double> numpy_linspace(double start, double stop, int num) {
  const double step = (stop - start) / static_cast<double>(num - 1);
  std::vector<double> y(static_cast<size_t>(num));
  for (int i = 0; i < num; ++i) {
    const double scaled = static_cast<double>(i) * step;
    y[static_cast<size_t>(i)] = scaled + start;
  }
  y.back() = stop;
  return y;
}

// s * sigma / (1 + (s - 1) * sigma) in float64, in the official order of operations.
double shift_sigma(double sigma, double shift) {
  const double numerator = shift * sigma;
  const double scaled = (shift - 1.0) * sigma;
  const double denominator = 1.0 + scaled;
  return numerator / denominator;
}

// Evenly spaced sigmas linspace(sigma_max, 0, N + 1)[:N], shifted (float64).
std::vector<double> shifted_sigmas(double sigma_max, int num_steps, double shift) {
  std::vector<double> sigmas = numpy_linspace(sigma_max, 0.0, num_steps + 1);
  sigmas.pop_back();
  for (double& sigma : sigmas) sigma = shift_sigma(sigma, shift);
  return sigmas;
}

// float32 sigmas with the final 0, as np.concatenate([sigmas, [0]]).astype(np.float32).
std::vector<float> to_f32_with_final_zero(const std::vector<double>& sigmas) {
  std::vector<float> out;
  out.reserve(sigmas.size() + 1);
  for (double sigma : sigmas) out.push_back(static_cast<float>(sigma));
  out.push_back(0.0f);
  return out;
}

// torch.from_numpy(sigmas * 1000).to(torch.int64): truncation toward zero, stored as float.
std::vector<float> truncated_timesteps(const std::vector<double>& sigmas) {
  std::vector<float> out;
  out.reserve(sigmas.size());
  for (double sigma : sigmas) {
    out.push_back(static_cast<float>(static_cast<int64_t>(sigma * kNumTrainTimesteps)));
  }
  return out;
}

FlowSchedule unipc_schedule(int num_steps, double shift) {
  // FlowUniPCMultistepScheduler.__init__: sigmas = 1 - linspace(1, 1/1000, 1000)[::-1] in float64,
  // then float32; sigma_max is its first entry read back as a double.
  const double sigma_max = static_cast<double>(static_cast<float>(1.0 - 1.0 / kNumTrainTimesteps));
  const std::vector<double> sigmas = shifted_sigmas(sigma_max, num_steps, shift);
  return {truncated_timesteps(sigmas), to_f32_with_final_zero(sigmas)};
}

FlowSchedule dpm_schedule(int num_steps, double shift) {
  // get_sampling_sigmas, then retrieve_timesteps(sigmas=...): the scheduler's own shift is 1,
  // which maps every sigma to itself exactly.
  const std::vector<double> sigmas = shifted_sigmas(1.0, num_steps, shift);
  return {truncated_timesteps(sigmas), to_f32_with_final_zero(sigmas)};
}

FlowSchedule euler_schedule(int num_steps, double shift) {
  const std::vector<double> sigmas = shifted_sigmas(1.0, num_steps, shift);
  std::vector<float> sigmas_f32 = to_f32_with_final_zero(sigmas);
  // diffusers: timesteps = sigmas * num_train_timesteps on the float32 sigma tensor.
  std::vector<float> timesteps;
  timesteps.reserve(sigmas.size());
  for (size_t i = 0; i < sigmas.size(); ++i) {
    timesteps.push_back(sigmas_f32[i] * static_cast<float>(kNumTrainTimesteps));
  }
  return {std::move(timesteps), std::move(sigmas_f32)};
}

}  // namespace

Status check_flow_params(int num_steps, double shift) {
  if (num_steps < 1 || num_steps > kMaxFlowSteps) {
    return invalid_argument("sampling steps must be in [1, " + std::to_string(kMaxFlowSteps) + "], got " +
                            std::to_string(num_steps));
  }
  if (!(shift > 0.0 && shift <= kMaxFlowShift)) {
    return invalid_argument("sample shift must be in (0, " + std::to_string(kMaxFlowShift) + "], got " +
                            std::to_string(shift));
  }
  return Status::ok();
}

Expected<FlowSchedule> make_flow_schedule(SamplerKind kind, int num_steps, double shift) {
  if (Status status = check_flow_params(num_steps, shift); !status) return status;
  switch (kind) {
    case SamplerKind::kUniPC:
      return unipc_schedule(num_steps, shift);
    case SamplerKind::kDpmPlusPlus:
      return dpm_schedule(num_steps, shift);
    case SamplerKind::kEuler:
      return euler_schedule(num_steps, shift);
  }
  return internal_error("unknown SamplerKind");
}

}  // namespace frugal::video
