#include "server/sse_stream.h"

#include "core/check.h"

namespace frugal {

std::string sse_data_event(std::string_view payload) {
  CHECK(payload.find('\n') == std::string_view::npos && payload.find('\r') == std::string_view::npos,
        "an SSE data payload must be a single line");
  std::string out;
  out.reserve(payload.size() + 8);
  out += "data: ";
  out += payload;
  out += "\n\n";
  return out;
}

std::string sse_comment(std::string_view text) {
  CHECK(text.find('\n') == std::string_view::npos, "an SSE comment must be a single line");
  return ": " + std::string(text) + "\n\n";
}

}  // namespace frugal
