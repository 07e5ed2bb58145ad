// SamplerKind: which flow-matching sampler a Wan2.1 video run uses, and its user-facing name
// (video samplers layer). The names are the ones the CLI and the API accept.
#pragma once

#include <string_view>

#include "core/expected.h"

namespace frugal::video {

enum class SamplerKind {
  kUniPC,        // "unipc": FlowUniPCMultistepScheduler, order 2, bh2 (Wan2.1's default)
  kDpmPlusPlus,  // "dpm++": FlowDPMSolverMultistepScheduler, dpmsolver++ midpoint, order 2
  kEuler,        // "euler": first-order flow-matching Euler (not in Wan2.1; diffusers' update)
};

// "unipc", "dpm++" or "euler".
std::string_view sampler_kind_name(SamplerKind kind);

// The inverse of sampler_kind_name (exact, case-sensitive). Anything else is kInvalidArgument
// with a message that lists the valid names.
Expected<SamplerKind> parse_sampler_kind(std::string_view name);

}  // namespace frugal::video
