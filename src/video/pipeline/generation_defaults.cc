#include "video/pipeline/generation_defaults.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "video/pipeline/video_request.h"
#include "video/samplers/sampler_kind.h"

namespace frugal::video {

namespace {

Status bad(const std::string& path, const std::string& key, const std::string& what) {
  return invalid_argument(path + ": \"" + key + "\" " + what);
}

}  // namespace

Expected<VideoGenerationDefaults> load_generation_defaults(const std::string& model_dir) {
  VideoGenerationDefaults d;
  if (model_dir.empty()) return d;
  const std::filesystem::path path = std::filesystem::path(model_dir) / kGenerationConfigFile;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return d;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return data_loss("cannot read " + path.string());
  const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return invalid_argument(path.string() + " is not a JSON object");
  const std::string p = path.string();
  for (const auto& [key, value] : j.items()) {
    if (key == "size") {
      int64_t w = 0, h = 0;
      if (!value.is_string() || !parse_video_size(value.get<std::string>(), &w, &h)) {
        return bad(p, key, "must be \"WIDTHxHEIGHT\" with multiples of 16");
      }
      d.size = value.get<std::string>();
    } else if (key == "frames") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() % 4 != 1) {
        return bad(p, key, "must be an integer 4n+1");
      }
      d.frames = value.get<int64_t>();
    } else if (key == "steps") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > 1000) {
        return bad(p, key, "must be an integer in [1, 1000]");
      }
      d.steps = value.get<int>();
    } else if (key == "sampler") {
      if (!value.is_string() || !parse_sampler_kind(value.get<std::string>())) {
        return bad(p, key, "must be unipc, dpm++ or euler");
      }
      d.sampler = value.get<std::string>();
    } else if (key == "shift" || key == "cfg") {
      if (!value.is_number() || !(value.get<double>() > 0) || (key == "cfg" && value.get<double>() < 1)) {
        return bad(p, key, key == "cfg" ? "must be a number >= 1" : "must be a number > 0");
      }
      (key == "shift" ? d.shift : d.cfg) = value.get<float>();
    } else {
      return bad(p, key, "is not a generation setting (size, frames, steps, sampler, shift, cfg)");
    }
  }
  return d;
}

}  // namespace frugal::video
