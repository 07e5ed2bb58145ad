#include "server/video_json.h"

#include <cmath>

namespace frugal {
namespace {

nlohmann::json time_or_null(int64_t unix_seconds) {
  return unix_seconds > 0 ? nlohmann::json(unix_seconds) : nlohmann::json(nullptr);
}

nlohmann::json number_or_null(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json timings_json(const jobs::JobRecord& job) {
  if (job.state != jobs::JobState::kCompleted) return nullptr;
  const jobs::StageSeconds& s = job.stage_seconds;
  return {{"queue_seconds", s.queue},           {"text_encode_seconds", s.text_encode},
          {"denoise_seconds", s.denoise},       {"vae_decode_seconds", s.vae_decode},
          {"mp4_encode_seconds", s.mp4_encode}, {"total_seconds", s.total}};
}

}  // namespace

nlohmann::json video_object_json(const jobs::VideoView& view) {
  const jobs::JobRecord& job = view.job;
  nlohmann::json object = {
      {"id", job.id},
      {"object", "video"},
      {"status", jobs::api_state_name(job.state)},  // a held job shows in_progress (OpenAI's four states)
      {"progress", static_cast<int>(std::floor(job.progress))},
      {"created_at", job.created_at},
      {"completed_at", time_or_null(job.completed_at)},
      {"expires_at", time_or_null(job.expires_at)},
      {"model", job.model},
      {"prompt", job.prompt},
      {"seconds", job.seconds},
      {"size", job.size},
      {"remixed_from_video_id", job.remixed_from.empty() ? nlohmann::json(nullptr) : nlohmann::json(job.remixed_from)},
  };
  object["error"] = job.state == jobs::JobState::kFailed
                        ? nlohmann::json{{"code", job.error_code}, {"message", job.error_message}}
                        : nlohmann::json(nullptr);
  object["tier"] = job.tier;
  object["seed"] = job.seed;
  object["frames"] = job.frames;
  object["steps"] = job.steps;
  object["queue_position"] = view.queue_position;
  object["eta_seconds"] = number_or_null(view.eta_seconds);
  object["predicted_seconds"] = number_or_null(view.predicted_seconds);
  object["predicted_cost_usd"] = number_or_null(view.predicted_cost_usd);
  object["compute_seconds"] = job.compute_seconds;
  object["cost_usd"] = job.cost_usd;
  object["attempts"] = job.attempts;
  object["timings"] = timings_json(job);
  object["held_for_review"] = job.state == jobs::JobState::kHeld;  // frugal: waiting for a person
  return object;
}

nlohmann::json video_list_json(const std::vector<jobs::VideoView>& views, bool has_more) {
  nlohmann::json data = nlohmann::json::array();
  for (const jobs::VideoView& view : views) data.push_back(video_object_json(view));
  nlohmann::json page = {{"object", "list"}, {"data", data}, {"has_more", has_more}};
  page["first_id"] = views.empty() ? nlohmann::json(nullptr) : nlohmann::json(views.front().job.id);
  page["last_id"] = views.empty() ? nlohmann::json(nullptr) : nlohmann::json(views.back().job.id);
  return page;
}

nlohmann::json video_deleted_json(const std::string& id) {
  return {{"id", id}, {"object", "video.deleted"}, {"deleted", true}};
}

}  // namespace frugal
