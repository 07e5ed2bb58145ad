// PostCheck: one check a finished video passes before its requester may have it (trust layer).
// The worker runs every configured check on frames sampled from the decoded output (every k-th
// frame, as the MP4 encoder received them) before it releases the job; any check that flags the
// video, or fails to run, holds the job for human review (docs/design/trust-review.md).
// Checks today: the PDQ hash list (pdq_check.h) and an operator's classifier command
// (classifier_check.h). The watermark read-back is meant to plug in here as one more PostCheck
// (it reads `video_path`).
// Threading contract: run() may be called from several workers at once; implementations keep no
// per-call state in members.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/expected.h"
#include "media/media_types.h"

namespace frugal::trust {

struct SampledFrame {
  int64_t index = 0;      // 0-based frame number in the video
  media::RgbImage image;  // [H, W, 3]
};

struct PostCheckInput {
  std::string job_id;
  std::string prompt;
  std::vector<SampledFrame> frames;  // in frame order, at least one
  std::string video_path;            // the finished MP4 on local disk ("" when not available)
};

struct CheckOutcome {
  std::string check;   // the check's name()
  bool hold = false;   // flagged (or failed to run): hold the job for review
  std::string detail;  // what it found, for the reviewer
};

class PostCheck {
 public:
  virtual ~PostCheck() = default;
  virtual std::string name() const = 0;
  // The verdict; an error means the check could not run, which holds the job too.
  virtual Expected<CheckOutcome> run(const PostCheckInput& input) const = 0;
};

using PostChecks = std::vector<std::unique_ptr<PostCheck>>;

// Runs every check; a check's error becomes a holding outcome whose detail is the error.
std::vector<CheckOutcome> run_post_checks(const PostChecks& checks, const PostCheckInput& input);
// True when any outcome holds.
bool any_hold(const std::vector<CheckOutcome>& outcomes);

}  // namespace frugal::trust
