#include "sampling/sampling_params.h"

#include <cmath>
#include <string>

namespace frugal {
namespace {

Status bad_field(const char* field, float value, const char* rule) {
  return invalid_argument(std::string("sampling parameter '") + field + "' = " + std::to_string(value) +
                          " is invalid: " + rule);
}

}  // namespace

Status SamplingParams::validate() const {
  if (!std::isfinite(temperature) || temperature < 0.0f) {
    return bad_field("temperature", temperature, "must be a finite value >= 0");
  }
  if (!std::isfinite(top_p) || top_p <= 0.0f || top_p > 1.0f) {
    return bad_field("top_p", top_p, "must be in (0, 1]");
  }
  if (!std::isfinite(min_p) || min_p < 0.0f || min_p > 1.0f) {
    return bad_field("min_p", min_p, "must be in [0, 1]");
  }
  if (!std::isfinite(repeat_penalty) || repeat_penalty <= 0.0f) {
    return bad_field("repeat_penalty", repeat_penalty, "must be a finite value > 0");
  }
  if (repeat_last_n < -1) {
    return bad_field("repeat_last_n", static_cast<float>(repeat_last_n), "must be >= -1");
  }
  if (!std::isfinite(presence_penalty) || std::fabs(presence_penalty) > 2.0f) {
    return bad_field("presence_penalty", presence_penalty, "must be in [-2, 2]");
  }
  if (!std::isfinite(frequency_penalty) || std::fabs(frequency_penalty) > 2.0f) {
    return bad_field("frequency_penalty", frequency_penalty, "must be in [-2, 2]");
  }
  for (const auto& [token, bias] : logit_bias) {
    if (token < 0) return invalid_argument("logit_bias token id " + std::to_string(token) + " is negative");
    if (!std::isfinite(bias) || std::fabs(bias) > kMaxLogitBias) {
      return bad_field("logit_bias", bias, "biases must be in [-100, 100]");
    }
  }
  return Status::ok();
}

}  // namespace frugal
