#include "jobs/review.h"

#include <nlohmann/json.hpp>

#include "media/png_writer.h"

namespace frugal::jobs {

std::string review_frame_key(const std::string& job_id, int64_t frame_index) {
  return job_id + "/review/frame_" + std::to_string(frame_index) + ".png";
}

std::string review_json(const std::vector<trust::CheckOutcome>& outcomes, const std::vector<int64_t>& frames) {
  nlohmann::json checks = nlohmann::json::array();
  for (const trust::CheckOutcome& outcome : outcomes) {
    checks.push_back({{"check", outcome.check}, {"hold", outcome.hold}, {"detail", outcome.detail}});
  }
  return nlohmann::json{{"checks", checks}, {"frames", frames}}.dump(-1, ' ', false,
                                                                    nlohmann::json::error_handler_t::replace);
}

std::string review_with_decision(const std::string& review, bool approved, const std::string& reason,
                                 const std::string& reviewer, int64_t at) {
  nlohmann::json record = nlohmann::json::parse(review, nullptr, /*allow_exceptions=*/false);
  if (!record.is_object()) record = nlohmann::json::object();
  record["decision"] = {{"approved", approved}, {"reason", reason}, {"reviewer", reviewer}, {"at", at}};
  return record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string hold_reason_of(const std::vector<trust::CheckOutcome>& outcomes) {
  std::string reason;
  for (const trust::CheckOutcome& outcome : outcomes) {
    if (!outcome.hold) continue;
    if (!reason.empty()) reason += "; ";
    reason += outcome.check + ": " + outcome.detail;
  }
  return reason;
}

std::vector<int64_t> review_frames(const std::string& review) {
  const nlohmann::json record = nlohmann::json::parse(review, nullptr, /*allow_exceptions=*/false);
  std::vector<int64_t> frames;
  if (!record.is_object() || !record.contains("frames") || !record["frames"].is_array()) return frames;
  for (const auto& frame : record["frames"]) {
    if (frame.is_number_integer()) frames.push_back(frame.get<int64_t>());
  }
  return frames;
}

Expected<std::vector<int64_t>> store_review_frames(storage::ObjectStore& store, const std::string& job_id,
                                                   const std::vector<trust::SampledFrame>& samples) {
  std::vector<int64_t> indices;
  for (const trust::SampledFrame& frame : samples) {
    const std::string staged = store.staging_dir() + "/" + job_id + ".review_" + std::to_string(frame.index) + ".png";
    if (Status s = media::write_png(staged, frame.image.pixels, frame.image.width, frame.image.height); !s) return s;
    if (Status s = store.put_file(review_frame_key(job_id, frame.index), staged, 0); !s) return s;
    indices.push_back(frame.index);
  }
  return indices;
}

}  // namespace frugal::jobs
