#include "jobs/job_spec.h"

#include "video/pipeline/video_request.h"

#include <cmath>
#include <cstdio>
#include <random>

namespace frugal::jobs {
namespace {

SpecError field_error(const std::string& param, std::string message) {
  return SpecError{invalid_argument(std::move(message)), param};
}

std::string format_seconds(int64_t frames, int64_t fps) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", static_cast<double>(frames - 1) / static_cast<double>(fps));
  return text;
}

std::string what_sizes(const VideoServiceConfig& config, const TierPreset& tier) {
  return "sizes are WIDTHxHEIGHT with both multiples of 16 from 16 to " + std::to_string(config.max_side) +
         " (this tier's default: " + std::to_string(tier.width) + "x" + std::to_string(tier.height) + ")";
}

std::string what_seconds(const VideoServiceConfig& config) {
  return "durations are 0.25 to " + format_seconds(config.max_frames, config.fps) + " seconds (5 to " +
         std::to_string(config.max_frames) + " frames at " + std::to_string(config.fps) + " fps)";
}

std::optional<SpecError> apply_size(const VideoCreateParams& params, const VideoServiceConfig& config,
                                    const TierPreset& tier, JobRecord& job) {
  job.width = tier.width;
  job.height = tier.height;
  if (params.size) {
    int64_t width = 0, height = 0;
    const std::string& text = *params.size;
    if (!video::parse_video_size(text, &width, &height) || width < 16 || height < 16 || width % 16 != 0 || height % 16 != 0 ||
        width > config.max_side || height > config.max_side) {
      return field_error("size", "Model '" + job.model + "' cannot make size '" + text + "': " + what_sizes(config, tier));
    }
    job.width = width;
    job.height = height;
  }
  job.size = std::to_string(job.width) + "x" + std::to_string(job.height);
  return std::nullopt;
}

std::optional<SpecError> apply_seconds(const VideoCreateParams& params, const VideoServiceConfig& config,
                                       const TierPreset& tier, JobRecord& job) {
  job.frames = tier.frames;
  job.seconds = format_seconds(tier.frames, config.fps);
  if (!params.seconds) return std::nullopt;
  const std::optional<int64_t> frames = frames_for_seconds(*params.seconds, config.fps);
  if (!frames || *frames > config.max_frames) {
    return field_error("seconds",
                       "Model '" + job.model + "' cannot make a " + *params.seconds + " second video: " + what_seconds(config));
  }
  job.frames = *frames;
  job.seconds = *params.seconds;
  return std::nullopt;
}

// The tier and the model that runs it.
std::optional<SpecError> apply_tier_and_model(const VideoCreateParams& params, const VideoServiceConfig& config,
                                              const std::vector<std::string>& models, JobRecord& job,
                                              const TierPreset** tier_out) {
  const std::string tier_name = params.tier.value_or(config.default_tier);
  const TierPreset* tier = config.find_tier(tier_name);
  if (tier == nullptr) {
    std::string names;
    for (const TierPreset& t : config.tiers) names += (names.empty() ? "" : ", ") + t.name;
    return field_error("tier", "Unknown tier '" + tier_name + "'; this server's tiers are " + names);
  }
  *tier_out = tier;
  job.tier = tier->name;
  std::string model = params.model.value_or("");
  if (model.empty() || model == "auto") model = tier->model;
  if (model.empty() && !models.empty()) model = models.front();
  bool served = false;
  for (const std::string& name : models) served |= name == model;
  if (!served) {
    return SpecError{not_found("The model '" + model + "' does not exist or is not a video model"), "model"};
  }
  job.model = model;
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> frames_for_seconds(const std::string& seconds, int64_t fps) {
  char* end = nullptr;
  const double value = std::strtod(seconds.c_str(), &end);
  if (seconds.empty() || end == nullptr || *end != '\0' || !std::isfinite(value) || value <= 0 || value > 1e6) {
    return std::nullopt;
  }
  const int64_t groups = std::max<int64_t>(1, std::llround(value * static_cast<double>(fps) / 4.0));
  return 4 * groups + 1;
}

std::string new_job_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char text[40];
  std::snprintf(text, sizeof(text), "video_%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return text;
}

std::variant<JobRecord, SpecError> resolve_job_spec(const VideoCreateParams& params, const VideoServiceConfig& config,
                                                    const std::vector<std::string>& models, int64_t now) {
  JobRecord job;
  if (!params.prompt || params.prompt->empty()) return field_error("prompt", "'prompt' is required and must not be empty");
  if (static_cast<int64_t>(params.prompt->size()) > config.max_prompt_chars) {
    return field_error("prompt", "'prompt' is " + std::to_string(params.prompt->size()) + " bytes; the limit is " +
                                     std::to_string(config.max_prompt_chars));
  }
  job.prompt = *params.prompt;
  job.negative_prompt = params.negative_prompt.value_or("");
  const TierPreset* tier = nullptr;
  if (auto error = apply_tier_and_model(params, config, models, job, &tier)) return *error;
  if (auto error = apply_size(params, config, *tier, job)) return *error;
  if (auto error = apply_seconds(params, config, *tier, job)) return *error;
  job.steps = tier->steps;
  job.sampler = tier->sampler;
  job.cfg = tier->cfg;
  job.shift = tier->shift;
  job.priority = tier->priority;
  job.seed = params.seed ? *params.seed : (std::random_device{}() & 0x7fffffffu);
  job.id = new_job_id();
  job.created_at = now;
  job.idempotency_key = params.idempotency_key;
  job.api_key_hash = params.api_key_hash;
  job.remixed_from = params.remixed_from;
  job.moderation_hold = params.hold_reason;
  return job;
}

}  // namespace frugal::jobs
