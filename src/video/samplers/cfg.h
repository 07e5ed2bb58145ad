// Classifier-free guidance: combining the conditional and unconditional velocities (video samplers
// layer).
#pragma once

#include <cstdint>

namespace frugal::video {

// out[i] = uncond[i] + guide_scale * (cond[i] - uncond[i]), in float32 and in that order (three
// roundings, no FMA), as WanT2V.generate computes it. out may alias cond or uncond.
// cond, uncond, out: [n].
void cfg_combine(const float* cond, const float* uncond, float guide_scale, float* out, int64_t n);

}  // namespace frugal::video
