// Small types shared by the OpenAI request parsers (server layer).
#pragma once

#include <string>

namespace frugal {

enum class ApiEndpoint { kCompletions, kChatCompletions };

// A rejected field: `param` is the JSON path ("messages[1].content", "stop").
struct InvalidField {
  std::string param;
  std::string message;
};

}  // namespace frugal
