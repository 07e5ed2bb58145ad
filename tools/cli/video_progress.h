// The live progress line of `frugal video` (tools layer): stage, step i/N, s/step, ETA, on stderr.
// On a terminal it redraws one line; otherwise (logs, tests) it prints one line per update.
#pragma once

#include <chrono>
#include <string>

#include "video/pipeline/video_request.h"

namespace frugal::cli {

class VideoProgressBar {
 public:
  explicit VideoProgressBar(bool enabled);
  void update(const video::VideoProgress& progress);
  // Ends the current line (call before printing anything else).
  void finish();

 private:
  bool enabled_;
  bool tty_;
  bool line_open_ = false;
  video::VideoStage last_stage_ = video::VideoStage::kTextEncode;
};

// "1m05s", "12.3s"
std::string format_seconds(double seconds);

}  // namespace frugal::cli
