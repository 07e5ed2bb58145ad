// Routes libav's log output through frugal's logger (media layer, internal).
#pragma once

namespace frugal::media {

// Installs, once per process, a libav log callback that forwards each line to core/logging:
// AV_LOG_ERROR and worse -> log_error, AV_LOG_WARNING -> log_warn, AV_LOG_INFO -> log_debug
// (x264 and the muxers narrate every encode at INFO), anything chattier is dropped. Idempotent and
// thread-safe; every media entry point calls it, so libav never writes to stderr on its own.
// Note: the callback is process-global libav state, which the media room thereby owns.
void route_libav_logs();

}  // namespace frugal::media
