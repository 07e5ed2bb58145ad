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
  WatermarkDetectOptions options;
  options.expected_payload = watermark_payload_for(key_, job_id);
  auto detection = detect_watermark_in_file(key_, video_path, 600, options);
  if (!detection) return detection.error();
  const WatermarkPayloadTest& test = *detection->payload_test;
  const int errors = watermark_bit_errors(*detection, *options.expected_payload);
  char stats[192];
  std::snprintf(stats, sizeof(stats), "J %.2f, threshold %.2f, log10 p <= %.1f; blind T %.1f, threshold %.1f", test.statistic,
                test.threshold, test.log10_p_value, detection->statistic, detection->threshold);
  if (!test.matches) {
    outcome.hold = true;
    outcome.detail = detection->detected
                         ? "a watermark was read but its payload is not this job's (" + std::to_string(errors) +
                               " of 64 bits differ; " + stats + ")"
                         : std::string("the watermark was not read back from the stored video (") + stats + ")";
    return outcome;
  }
  outcome.detail = "read back: this job's payload, " + std::to_string(errors) + " raw bit errors (" + stats + ")";
  return outcome;
}

}  // namespace frugal::trust
