// Minimal levelled logging to stderr (core layer). Thread-safe: one write per line.
// Level from FRUGAL_LOG=debug|info|warn|error (default info) or set_log_level().
#pragma once

#include <string_view>

namespace frugal {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
void log_message(LogLevel level, std::string_view message);

inline void log_debug(std::string_view m) { log_message(LogLevel::kDebug, m); }
inline void log_info(std::string_view m) { log_message(LogLevel::kInfo, m); }
inline void log_warn(std::string_view m) { log_message(LogLevel::kWarn, m); }
inline void log_error(std::string_view m) { log_message(LogLevel::kError, m); }

}  // namespace frugal
