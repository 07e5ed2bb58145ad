// Wall-clock timestamps for logs (core layer): the access log's and the audit log's "time" fields.
#pragma once

#include <string>

namespace frugal {

// Now, as ISO 8601 in UTC with milliseconds: "2026-01-02T03:04:05.678Z".
std::string utc_now_iso();

}  // namespace frugal
