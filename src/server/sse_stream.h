// Server-sent events framing (server layer): `data: <json>\n\n` events, the `data: [DONE]\n\n`
// terminator OpenAI clients wait for, and comment lines used as keep-alive probes.
#pragma once

#include <string>
#include <string_view>

namespace frugal {

inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

// One event carrying a payload; the payload must not contain a newline (compact JSON never does),
// which is CHECKed since a newline would split the event.
std::string sse_data_event(std::string_view payload);

// A comment line (ignored by SSE clients): probes whether the client is still connected.
std::string sse_comment(std::string_view text);

}  // namespace frugal
