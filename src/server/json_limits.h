// Limits a JSON document must meet before anything parses or recurses over it (server layer).
// nlohmann::json parses deep documents iteratively but dump() and several visitors recurse once per
// level: {"prompt":[[[... 100,000 levels ...]]]} overflowed the stack in the error path. The check is a
// single pass over the bytes that counts nesting outside strings; it does not validate the syntax
// (the parser does that next).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace frugal {

// Deeper than any OpenAI request (a json_schema response_format nests a few tens of levels) and far
// below what a recursive walk over 8 MiB of stack can take.
inline constexpr size_t kMaxJsonDepth = 128;

// The deepest nesting of arrays and objects in `text` (brackets inside strings do not count).
size_t json_nesting_depth(std::string_view text);

// nullopt when `text` nests at most `max_depth` levels; otherwise the message for a 400.
std::optional<std::string> check_json_depth(std::string_view text, size_t max_depth = kMaxJsonDepth);

}  // namespace frugal
