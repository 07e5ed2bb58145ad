// The structured-output fields of an OpenAI request (server layer): response_format (text,
// json_object, json_schema with strict), tools (functions with JSON-schema parameters),
// tool_choice (none / auto / required / a named function) and parallel_tool_calls. Schemas are
// compiled here, so an unsupported keyword is a 400 naming the field before anything runs. They
// are read from an order-preserving parse of the body (nlohmann::ordered_json) so properties are
// generated in the order the client wrote them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "grammar/grammar.h"
#include "server/api_types.h"

namespace frugal {

enum class ResponseFormatKind { kText, kJsonObject, kJsonSchema };
enum class ToolChoiceKind { kNone, kAuto, kRequired, kFunction };

struct ToolFunction {
  std::string name;
  std::string description;
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();  // a JSON schema
  bool strict = false;
};

struct StructuredRequest {
  ResponseFormatKind format = ResponseFormatKind::kText;
  std::shared_ptr<const Grammar> format_grammar;  // json_object / json_schema
  std::vector<ToolFunction> tools;
  ToolChoiceKind tool_choice = ToolChoiceKind::kNone;  // "auto" when tools are given
  std::string tool_choice_name;                        // kFunction
  bool parallel_tool_calls = true;

  bool uses_tools() const { return !tools.empty() && tool_choice != ToolChoiceKind::kNone; }
};

// Reads response_format, tools, tool_choice and parallel_tool_calls from the request body.
// Completions accept response_format (an extension; OpenAI's legacy endpoint has none) but not tools.
std::optional<InvalidField> parse_structured_request(ApiEndpoint endpoint, const nlohmann::ordered_json& body,
                                                     StructuredRequest& out);

}  // namespace frugal
