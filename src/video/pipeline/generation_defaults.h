// The generation settings a model folder recommends (video/pipeline layer): an optional
// `generation_config.json` beside config.json, e.g. for the bundled 64x64 model
//   {"size": "64x64", "frames": 17, "steps": 20, "sampler": "euler", "shift": 3.0, "cfg": 4.0}
// Every key is optional; `frugal video` and `frugal video-eval` use a value when its flag is not
// given on the command line (official Wan folders have no such file: the Wan defaults apply).
// Unknown keys and values of the wrong type or range are errors naming the key, so a typo is
// never silently ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/expected.h"

namespace frugal::video {

struct VideoGenerationDefaults {
  std::optional<std::string> size;  // "WIDTHxHEIGHT", multiples of 16
  std::optional<int64_t> frames;    // 4n+1
  std::optional<int> steps;         // >= 1
  std::optional<std::string> sampler;  // unipc | dpm++ | euler
  std::optional<float> shift;       // > 0
  std::optional<float> cfg;         // >= 1
};

inline constexpr const char* kGenerationConfigFile = "generation_config.json";

// Reads model_dir/generation_config.json; no file (or model_dir empty) → all fields empty.
Expected<VideoGenerationDefaults> load_generation_defaults(const std::string& model_dir);

}  // namespace frugal::video
