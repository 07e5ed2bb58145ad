#include "video_progress.h"

#include <unistd.h>

#include <cstdio>

namespace frugal::cli {

using namespace frugal::video;  // NOLINT: the video half's types in the video commands

std::string format_seconds(double seconds) {
  char buf[32];
  if (seconds >= 60.0) {
    std::snprintf(buf, sizeof(buf), "%dm%02ds", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%.1fs", seconds);
  }
  return buf;
}

VideoProgressBar::VideoProgressBar(bool enabled) : enabled_(enabled), tty_(isatty(STDERR_FILENO) != 0) {}

void VideoProgressBar::update(const VideoProgress& p) {
  if (!enabled_) return;
  if (line_open_ && p.stage != last_stage_) finish();
  last_stage_ = p.stage;
  constexpr int kBarWidth = 24;
  const double fraction = p.n_steps > 0 ? static_cast<double>(p.step) / p.n_steps : 0.0;
  const int filled = static_cast<int>(fraction * kBarWidth + 0.5);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kBarWidth, '.');
  const double per_step = p.step > 0 ? p.stage_seconds / p.step : 0.0;
  const double eta = per_step * (p.n_steps - p.step);
  const char* unit = p.stage == VideoStage::kVaeDecode ? "latent frame" : p.stage == VideoStage::kTextEncode ? "prompt" : "step";
  std::fprintf(stderr, "%s%-11s [%s] %s %d/%d  %.2f s/%s  elapsed %s  ETA %s%s", tty_ ? "\r" : "",
               video_stage_name(p.stage), bar.c_str(), unit, p.step, p.n_steps, per_step, unit,
               format_seconds(p.stage_seconds).c_str(), format_seconds(eta).c_str(), tty_ ? "\033[K" : "\n");
  std::fflush(stderr);
  line_open_ = tty_;
}

void VideoProgressBar::finish() {
  if (line_open_) std::fputc('\n', stderr);
  line_open_ = false;
}

}  // namespace frugal::cli
