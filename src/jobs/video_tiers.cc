#include "jobs/video_tiers.h"

#include "video/pipeline/video_request.h"
#include "video/vae/vae_memory.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace frugal::jobs {
namespace {

TierPreset make_tier(std::string name, int64_t width, int64_t height, int64_t frames, int steps, int priority) {
  TierPreset tier;
  tier.name = std::move(name);
  tier.width = width;
  tier.height = height;
  tier.frames = frames;
  tier.steps = steps;
  tier.priority = priority;
  return tier;
}

Status parse_size_text(const std::string& text, int64_t* width, int64_t* height) {
  if (!video::parse_video_size(text, width, height)) return invalid_argument("tier size must be WIDTHxHEIGHT, not \"" + text + "\"");
  return Status::ok();
}

Status check_tier(const TierPreset& tier, const VideoServiceConfig& config) {
  const std::string where = "tier \"" + tier.name + "\": ";
  if (tier.name.empty()) return invalid_argument("every tier needs a \"name\"");
  if (tier.width <= 0 || tier.height <= 0 || tier.width % 16 != 0 || tier.height % 16 != 0 ||
      tier.width > config.max_side || tier.height > config.max_side) {
    return invalid_argument(where + "size must be multiples of 16 up to max_side " + std::to_string(config.max_side));
  }
  if (tier.frames < 1 || (tier.frames - 1) % 4 != 0 || tier.frames > config.max_frames) {
    return invalid_argument(where + "frames must be 4n+1 up to max_frames " + std::to_string(config.max_frames));
  }
  if (tier.steps < 1 || tier.steps > 1000) return invalid_argument(where + "steps must be 1..1000");
  if (tier.sampler != "unipc" && tier.sampler != "dpm++" && tier.sampler != "euler") {
    return invalid_argument(where + "sampler must be unipc, dpm++ or euler");
  }
  if (!(tier.cfg >= 0 && tier.cfg <= 50) || !(tier.shift > 0 && tier.shift <= 100)) {
    return invalid_argument(where + "cfg must be in [0, 50] and shift in (0, 100]");
  }
  if (tier.concurrency < 1) return invalid_argument(where + "concurrency must be >= 1");
  if (Status s = validate_tiled_attention(tier.attention); !s) return invalid_argument(where + s.message());
  if (!(tier.attention_warmup >= 0 && tier.attention_warmup <= 1)) return invalid_argument(where + "attention_warmup must be in [0, 1]");
  if (!(tier.step_cache >= 0 && tier.step_cache <= 10)) return invalid_argument(where + "step_cache must be in [0, 10]");
  if (tier.step_cache_max_skips < 0 || tier.step_cache_max_skips > 1000) {
    return invalid_argument(where + "step_cache_max_skips must be in [0, 1000]");
  }
  if (!(tier.step_cache_uncond >= 0 && tier.step_cache_uncond <= 100)) {
    return invalid_argument(where + "step_cache_uncond must be in [0, 100]");
  }
  if (!(tier.step_cache_cond >= 0 && tier.step_cache_cond <= 100)) {
    return invalid_argument(where + "step_cache_cond must be in [0, 100]");
  }
  if (tier.step_cache_uncond_max_skips < -1 || tier.step_cache_uncond_max_skips > 1000) {
    return invalid_argument(where + "step_cache_uncond_max_skips must be in [-1, 1000]");
  }
  if (!(tier.step_cache_start >= 0 && tier.step_cache_start <= tier.step_cache_end && tier.step_cache_end <= 1)) {
    return invalid_argument(where + "step_cache_start / step_cache_end need 0 <= start <= end <= 1");
  }
  if (!(tier.step_cache_error_tol >= 0 && tier.step_cache_error_tol <= 10)) {
    return invalid_argument(where + "step_cache_error_tol must be in [0, 10]");
  }
  return Status::ok();
}

// "vae_mem_budget": "4GiB" (vae_memory.h's sizes) or a byte count; "" / 0 = no budget.
Status parse_vae_budget(const nlohmann::json& item, const std::string& where, int64_t* out) {
  if (!item.contains("vae_mem_budget")) return Status::ok();
  const nlohmann::json& v = item["vae_mem_budget"];
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    *out = v.get<int64_t>();
    return Status::ok();
  }
  if (v.is_string() && v.get<std::string>().empty()) {
    *out = 0;
    return Status::ok();
  }
  if (!v.is_string()) return invalid_argument(where + "vae_mem_budget must be a size such as \"4GiB\" or a byte count");
  auto bytes = video::parse_memory_size(v.get<std::string>());
  if (!bytes) return invalid_argument(where + "vae_mem_budget: " + bytes.error().message());
  *out = *bytes;
  return Status::ok();
}

Expected<TierPreset> parse_tier(const nlohmann::json& item, int64_t default_vae_budget) {
  TierPreset tier;
  tier.name = item.value("name", "");
  tier.model = item.value("model", "");
  if (tier.model == "auto") tier.model.clear();
  if (item.contains("size")) {
    if (Status s = parse_size_text(item.value("size", ""), &tier.width, &tier.height); !s) return s;
  }
  tier.frames = item.value("frames", tier.frames);
  tier.steps = item.value("steps", tier.steps);
  tier.sampler = item.value("sampler", tier.sampler);
  tier.cfg = item.value("cfg", tier.cfg);
  tier.shift = item.value("shift", tier.shift);
  tier.concurrency = item.value("concurrency", tier.concurrency);
  tier.priority = item.value("priority", tier.priority);
  if (item.contains("attention")) {
    auto mode = parse_attention_mode(item.value("attention", ""));
    if (!mode) return invalid_argument("tier \"" + tier.name + "\": " + mode.error().message());
    tier.attention.mode = *mode;
  }
  if (item.contains("attention_rest")) {
    auto rest = parse_attention_rest(item.value("attention_rest", ""));
    if (!rest) return invalid_argument("tier \"" + tier.name + "\": " + rest.error().message());
    tier.attention.rest = *rest;
  }
  tier.attention.tile = item.value("attention_tile", tier.attention.tile);
  tier.attention.window = item.value("attention_window", tier.attention.window);
  tier.attention.keep = item.value("attention_keep", tier.attention.keep);
  tier.attention_warmup = item.value("attention_warmup", tier.attention_warmup);
  tier.step_cache = item.value("step_cache", tier.step_cache);
  if (item.contains("step_cache_mode")) {
    auto mode = video::parse_step_cache_mode(item.value("step_cache_mode", ""));
    if (!mode) return invalid_argument("tier \"" + tier.name + "\": step_cache_mode must be reuse, extrapolate or quadratic");
    tier.step_cache_mode = *mode;
  }
  tier.step_cache_max_skips = item.value("step_cache_max_skips", tier.step_cache_max_skips);
  tier.step_cache_uncond = item.value("step_cache_uncond", tier.step_cache_uncond);
  tier.step_cache_cond = item.value("step_cache_cond", tier.step_cache_cond);
  tier.step_cache_uncond_max_skips = item.value("step_cache_uncond_max_skips", tier.step_cache_uncond_max_skips);
  if (item.contains("step_cache_cfg")) {
    const std::string cfg = item.value("step_cache_cfg", "");
    if (cfg != "own" && cfg != "delta") return invalid_argument("tier \"" + tier.name + "\": step_cache_cfg must be own or delta");
    tier.step_cache_cfg_delta = cfg == "delta";
  }
  tier.step_cache_start = item.value("step_cache_start", tier.step_cache_start);
  tier.step_cache_end = item.value("step_cache_end", tier.step_cache_end);
  tier.step_cache_stagger = item.value("step_cache_stagger", tier.step_cache_stagger);
  tier.step_cache_error_tol = item.value("step_cache_error_tol", tier.step_cache_error_tol);
  tier.vae_mem_budget = default_vae_budget;
  if (Status s = parse_vae_budget(item, "tier \"" + tier.name + "\": ", &tier.vae_mem_budget); !s) return s;
  return tier;
}

}  // namespace

const TierPreset* VideoServiceConfig::find_tier(const std::string& name) const {
  for (const TierPreset& tier : tiers) {
    if (tier.name == name) return &tier;
  }
  return nullptr;
}

VideoServiceConfig default_video_service_config() {
  VideoServiceConfig config;
  config.tiers = {make_tier("draft", 480, 272, 17, 8, 3), make_tier("preview", 832, 480, 33, 20, 2),
                  make_tier("final", 832, 480, 81, 50, 1)};
  return config;
}

Expected<VideoServiceConfig> parse_video_service_config(const std::string& json_text) {
  const nlohmann::json root = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object()) return invalid_argument("the video tiers config is not a JSON object");
  VideoServiceConfig config;
  try {
    config.default_tier = root.value("default_tier", config.default_tier);
    config.max_queued = root.value("max_queued", config.max_queued);
    config.max_active_per_key = root.value("max_queued_per_key", config.max_active_per_key);
    config.retention_seconds = root.value("retention_seconds", config.retention_seconds);
    config.max_frames = root.value("max_frames", config.max_frames);
    config.max_side = root.value("max_side", config.max_side);
    config.max_prompt_chars = root.value("max_prompt_chars", config.max_prompt_chars);
    int64_t default_vae_budget = 0;  // the root's "vae_mem_budget": every tier's unless it sets its own
    if (Status s = parse_vae_budget(root, "", &default_vae_budget); !s) return s;
    if (!root.contains("tiers") || !root["tiers"].is_array() || root["tiers"].empty()) {
      return invalid_argument("the video tiers config needs a non-empty \"tiers\" array");
    }
    for (const nlohmann::json& item : root["tiers"]) {
      if (!item.is_object()) return invalid_argument("every entry of \"tiers\" must be an object");
      auto tier = parse_tier(item, default_vae_budget);
      if (!tier) return tier.error();
      config.tiers.push_back(std::move(*tier));
    }
  } catch (const nlohmann::json::exception& e) {  // a value of the wrong JSON type
    return invalid_argument(std::string("the video tiers config has a value of the wrong type: ") + e.what());
  }
  if (config.max_queued < 1 || config.max_frames < 1 || config.max_side < 16 || config.max_prompt_chars < 1 ||
      config.retention_seconds < 1) {
    return invalid_argument("max_queued, max_frames, max_side (>= 16), max_prompt_chars and retention_seconds must be positive");
  }
  if (config.max_active_per_key < 0) return invalid_argument("max_queued_per_key must be 0 (no limit) or positive");
  for (size_t tier_idx = 0; tier_idx < config.tiers.size(); ++tier_idx) {
    if (Status s = check_tier(config.tiers[tier_idx], config); !s) return s;
    for (size_t other_idx = 0; other_idx < tier_idx; ++other_idx) {
      if (config.tiers[other_idx].name == config.tiers[tier_idx].name) {
        return invalid_argument("tier \"" + config.tiers[tier_idx].name + "\" is defined twice");
      }
    }
  }
  if (config.find_tier(config.default_tier) == nullptr) {
    return invalid_argument("default_tier \"" + config.default_tier + "\" is not one of the tiers");
  }
  return config;
}

Expected<VideoServiceConfig> load_video_service_config(const std::string& path) {
  std::ifstream file(path);
  if (!file) return not_found("cannot open the video tiers config " + path);
  std::ostringstream text;
  text << file.rdbuf();
  auto config = parse_video_service_config(text.str());
  if (!config) return Status(config.error().code(), path + ": " + config.error().message());
  return config;
}

}  // namespace frugal::jobs
