// WatermarkReadBackCheck: the post-generation check that the finished MP4 still carries its own
// watermark (trust layer; docs/design/trust-review.md, docs/design/trust-watermark.md). It decodes
// the video as stored (after H.264) and runs the detector's known-payload test for HMAC(key, job id)
// at a 1e-6 false-positive rate (watermark_detect.h: the rate holds against unmarked videos,
// other keys and other jobs' payloads). Not this job's mark: a hold (an unmarked video
// must not leave as if it were marked). The video service runs it on every job by default and fails
// the job on a hold (jobs/video_worker.h); as a PostCheck it holds the job for review. Frames whose short side is under
// kWatermarkReliableSide are passed unchecked with a note: the mark is embedded there but busy small
// clips are not read reliably (docs/PERFORMANCE.md), and a hold on every small video would be noise.
// Threading contract: run() is const and keeps no per-call state (PostCheck's rule).
#pragma once

#include <string>

#include "trust/post_check.h"
#include "trust/watermark_key.h"

namespace frugal::trust {

inline constexpr int kWatermarkReliableSide = 256;  // pixels, short side

class WatermarkReadBackCheck final : public PostCheck {
 public:
  explicit WatermarkReadBackCheck(WatermarkKey key, int min_side = kWatermarkReliableSide)
      : key_(key), min_side_(min_side) {}
  std::string name() const override { return "watermark_read_back"; }
  // kInvalidArgument without a video path or frames (the check cannot run: the job is held).
  Expected<CheckOutcome> run(const PostCheckInput& input) const override;
  // The same on the finished MP4 of a width × height job: hold = the mark is not read back or not the
  // job's. The video service calls it on every job before release (a hold there fails the job).
  Expected<CheckOutcome> verify(const std::string& job_id, const std::string& video_path, int width, int height) const;
  int min_side() const { return min_side_; }

 private:
  WatermarkKey key_;
  int min_side_;
};

}  // namespace frugal::trust
