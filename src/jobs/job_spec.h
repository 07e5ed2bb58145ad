// From an API request to a job (jobs layer): OpenAI's `seconds` and `size` become frames (16 fps,
// 4n+1) and pixels, the tier preset fills in the rest, and anything a model cannot make is a
// kInvalidArgument that says what it can make.
#pragma once

#include <optional>
#include <variant>
#include <string>
#include <vector>

#include "core/expected.h"
#include "jobs/job.h"
#include "jobs/video_tiers.h"

namespace frugal::jobs {

// The fields of POST /v1/videos (OpenAI's, and frugal's extensions tier, seed, negative_prompt,
// steps); an absent field is nullopt.
struct VideoCreateParams {
  std::optional<std::string> prompt;
  std::optional<std::string> model;     // a served video model, "auto", or absent: the tier's
  std::optional<std::string> seconds;   // "4", "0.5": clip length
  std::optional<std::string> size;      // "832x480"
  std::optional<std::string> tier;      // draft | preview | final | a configured one
  std::optional<uint64_t> seed;
  std::optional<std::string> negative_prompt;
  std::string idempotency_key;
  std::string api_key_hash;
  std::string remixed_from;
  std::string hold_reason;  // set by prompt moderation (a "hold" verdict): the job waits for human review
};

// A failure to resolve: the Status plus the request field it is about ("" when none).
struct SpecError {
  Status status;
  std::string param;
};

// The job a request asks for, not yet stored (id, created_at and seed filled; state queued).
// `models`: the served video model names, the first being the default. Unknown model → kNotFound.
std::variant<JobRecord, SpecError> resolve_job_spec(const VideoCreateParams& params, const VideoServiceConfig& config,
                                                    const std::vector<std::string>& models, int64_t now);

// "4" → 65 frames at 16 fps (the nearest 4n+1, at least 5); nullopt for a non-number or <= 0.
std::optional<int64_t> frames_for_seconds(const std::string& seconds, int64_t fps);
// A fresh job id: "video_" + 32 hex digits from the OS's random source.
std::string new_job_id();

}  // namespace frugal::jobs
