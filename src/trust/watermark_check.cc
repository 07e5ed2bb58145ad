#include "trust/watermark_check.h"

#include <algorithm>
#include <cstdio>

#include "trust/watermark_detect.h"

namespace frugal::trust {

Expected<CheckOutcome> WatermarkReadBackCheck::run(const PostCheckInput& input) const {
  if (input.video_path.empty() || input.frames.empty()) {
    return invalid_argument("the watermark read-back needs the finished MP4 and its frame size");
  }
  const media::RgbImage& first = input.frames.front().image;
  return verify(input.job_id, input.video_path, first.width, first.height);
}

Expected<CheckOutcome> WatermarkReadBackCheck::verify(const std::string& job_id, const std::string& video_path, int width,
                                                      int height) const {
  if (video_path.empty()) return invalid_argument("the watermark read-back needs the finished MP4");
  CheckOutcome outcome{name(), false, ""};
  if (std::min(width, height) < min_side_) {
    outcome.detail = std::to_string(width) + "x" + std::to_string(height) + " is below the " +
                     std::to_string(min_side_) + "-pixel short side the mark is read back reliably at: not checked";
    return outcome;
  }
  auto detection = detect_watermark_in_file(key_, video_path);
  if (!detection) return detection.error();
  char stats[96];
  std::snprintf(stats, sizeof(stats), "T %.1f, threshold %.1f, log10 p <= %.1f", detection->statistic,
                detection->threshold, detection->log10_p_value);
  if (!detection->detected) {
    outcome.hold = true;
    outcome.detail = std::string("the watermark was not read back from the stored video (") + stats + ")";
    return outcome;
  }
  const int errors = watermark_bit_errors(*detection, watermark_payload_for(key_, job_id));
  if (errors > kWatermarkReadBackMaxBitErrors) {
    outcome.hold = true;
    outcome.detail = "a watermark was read but its payload is not this job's (" + std::to_string(errors) +
                     " of 64 bits differ; " + stats + ")";
    return outcome;
  }
  outcome.detail = "read back: this job's payload, " + std::to_string(errors) + " bit errors (" + stats + ")";
  return outcome;
}

}  // namespace frugal::trust
