#include "server/json_limits.h"

namespace frugal {

size_t json_nesting_depth(std::string_view text) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::optional<std::string> check_json_depth(std::string_view text, size_t max_depth) {
  const size_t depth = json_nesting_depth(text);
  if (depth <= max_depth) return std::nullopt;
  return "The request body nests JSON " + std::to_string(depth) + " levels deep; at most " +
         std::to_string(max_depth) + " are accepted";
}

}  // namespace frugal
