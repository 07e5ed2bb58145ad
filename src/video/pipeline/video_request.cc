#include "video/pipeline/video_request.h"

#include <cstdio>

namespace frugal::video {

// wan/configs/shared_config.py `sample_neg_prompt` (Apache-2.0), the negative prompt generate() uses
// when none is given.
const char* const kWanDefaultNegativePrompt =
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，"
    "手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";

bool parse_video_size(const std::string& text, int64_t* width, int64_t* height) {
  long long w = 0, h = 0;
  char x = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%lld%c%lld%c", &w, &x, &h, &extra) != 3 || x != 'x' || w <= 0 || h <= 0) return false;
  *width = w;
  *height = h;
  return true;
}

bool parse_int_triple(const std::string& text, std::array<int64_t, 3>* out) {
  long long a = 0, b = 0, c = 0;
  char s1 = 0, s2 = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%lld%c%lld%c%lld%c", &a, &s1, &b, &s2, &c, &extra) != 5 || s1 != ',' || s2 != ',' ||
      a <= 0 || b <= 0 || c <= 0) {
    return false;
  }
  *out = {a, b, c};
  return true;
}

float guidance_scale(const VideoRequest& request, size_t expert, size_t n_experts) {
  return n_experts == 2 && expert == 0 && request.cfg_high_noise ? *request.cfg_high_noise : request.cfg;
}

bool needs_unconditional_pass(const VideoRequest& request, size_t n_experts) {
  for (size_t e = 0; e < n_experts; ++e) {
    if (guidance_scale(request, e, n_experts) != 1.0f) return true;
  }
  return false;
}

}  // namespace frugal::video
