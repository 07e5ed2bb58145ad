#include "video/samplers/cfg.h"

namespace frugal::video {

void cfg_combine(const float* cond, const float* uncond, float guide_scale, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float diff = cond[i] - uncond[i];
    const float guided = guide_scale * diff;
    out[i] = uncond[i] + guided;
  }
}

}  // namespace frugal::video
