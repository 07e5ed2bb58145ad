#include "media/libav_log.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>

extern "C" {
#include <libavutil/log.h>
}

#include "core/logging.h"

namespace frugal::media {

namespace {

// Long enough for any single libav message line; longer ones are truncated, never overflowed.
constexpr int kMaxLineBytes = 1024;

void forward_libav_log(void* avcl, int level, const char* format, va_list args) {
  if (level > AV_LOG_INFO) return;
  LogLevel frugal_level = LogLevel::kDebug;
  if (level <= AV_LOG_ERROR) {
    frugal_level = LogLevel::kError;
  } else if (level <= AV_LOG_WARNING) {
    frugal_level = LogLevel::kWarn;
  }
  if (frugal_level < log_level()) return;
  // libav sometimes emits one line in several calls; it prints "[libx264 @ 0x...] " only at the
  // start of a line. Both are tracked per thread, and a line is logged once its newline arrives.
  thread_local int print_prefix = 1;
  thread_local std::string pending;
  char part[kMaxLineBytes];
  av_log_format_line2(avcl, level, format, args, part, sizeof(part), &print_prefix);
  pending += part;
  const bool line_done = !pending.empty() && pending.back() == '\n';
  if (!line_done && pending.size() < 4 * kMaxLineBytes) return;  // bounded: flush a runaway line
  while (!pending.empty() && (pending.back() == '\n' || pending.back() == '\r')) pending.pop_back();
  if (!pending.empty()) log_message(frugal_level, "libav: " + pending);
  pending.clear();
}

}  // namespace

void route_libav_logs() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(forward_libav_log); });
}

}  // namespace frugal::media
