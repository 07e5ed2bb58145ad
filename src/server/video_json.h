// The OpenAI Videos API's JSON (server layer): the video object with frugal's extensions, the list
// page and the deletion answer. Field by field:
//   OpenAI: id, object "video", status, progress (0–100, integer), created_at, completed_at,
//     expires_at (null until known), model, prompt, seconds, size, error ({code, message} | null),
//     remixed_from_video_id.
//   frugal: tier, seed, frames, steps, queue_position (0 unless queued), eta_seconds,
//     predicted_seconds, predicted_cost_usd (the tier's learned time and cost; null before the first
//     video of the tier), compute_seconds (core-seconds), cost_usd, attempts, timings {queue_seconds,
//     text_encode_seconds, denoise_seconds, vae_decode_seconds, mp4_encode_seconds, total_seconds}.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/video_service.h"

namespace frugal {

nlohmann::json video_object_json(const jobs::VideoView& view);
nlohmann::json video_list_json(const std::vector<jobs::VideoView>& views, bool has_more);
nlohmann::json video_deleted_json(const std::string& id);

}  // namespace frugal
