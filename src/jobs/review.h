// The review record of a held job (jobs layer): what the post-generation checks found, which frames
// the reviewer can look at, and the reviewer's decision — one JSON document in the job store's
// `review` column, so the queue and its evidence survive a restart (docs/design/trust-review.md):
//   {"checks": [{"check": "pdq_hash_list", "hold": true, "detail": "..."}, ...],
//    "frames": [0, 8, 16],
//    "decision": {"approved": false, "reason": "...", "reviewer": "<key id>", "at": 1733550000}}
// The sampled frames themselves are PNG objects "<job id>/review/frame_<index>.png" next to the
// job's files, deleted with them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "storage/object_store.h"
#include "trust/post_check.h"

namespace frugal::jobs {

// The object key of a held job's sampled frame.
std::string review_frame_key(const std::string& job_id, int64_t frame_index);

// The review JSON for a job held by `outcomes` with `frames` stored.
std::string review_json(const std::vector<trust::CheckOutcome>& outcomes, const std::vector<int64_t>& frames);
// `review` with the decision added.
std::string review_with_decision(const std::string& review, bool approved, const std::string& reason,
                                 const std::string& reviewer, int64_t at);
// The one-line hold reason: the holding checks' names and details.
std::string hold_reason_of(const std::vector<trust::CheckOutcome>& outcomes);
// The frame indices a review JSON lists ([] when none or unparsable).
std::vector<int64_t> review_frames(const std::string& review);

// Writes each sample as a PNG into `store` (no expiry: the decision decides); returns their indices.
Expected<std::vector<int64_t>> store_review_frames(storage::ObjectStore& store, const std::string& job_id,
                                                   const std::vector<trust::SampledFrame>& samples);

}  // namespace frugal::jobs
