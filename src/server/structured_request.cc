#include "server/structured_request.h"

#include "grammar/json_schema.h"

namespace frugal {
namespace {

using ojson = nlohmann::ordered_json;
using Result = std::optional<InvalidField>;

constexpr size_t kMaxTools = 128;

Result fail(std::string param, std::string message) { return InvalidField{std::move(param), std::move(message)}; }

const ojson* find_field(const ojson& body, const char* key) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

// OpenAI's function names: a-z, A-Z, 0-9, underscores and dashes, at most 64 characters.
bool valid_function_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result read_bool(const ojson& object, const char* key, const std::string& param, bool& out) {
  const ojson* value = find_field(object, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) return fail(param, "'" + param + "' must be a boolean");
  out = value->get<bool>();
  return std::nullopt;
}

Result read_response_format(const ojson& body, StructuredRequest& out) {
  const ojson* format = find_field(body, "response_format");
  if (format == nullptr) return std::nullopt;
  if (!format->is_object()) return fail("response_format", "'response_format' must be an object");
  const auto type = format->find("type");
  if (type == format->end() || !type->is_string()) {
    return fail("response_format.type", "'response_format.type' must be \"text\", \"json_object\" or \"json_schema\"");
  }
  for (const auto& [key, value] : format->items()) {
    if (key != "type" && key != "json_schema") {
      return fail("response_format." + key, "unknown field 'response_format." + key + "'");
    }
  }
  const std::string kind = type->get<std::string>();
  if (kind == "text") return std::nullopt;
  if (kind == "json_object") {
    out.format = ResponseFormatKind::kJsonObject;
    out.format_grammar = any_object_grammar();
    return std::nullopt;
  }
  if (kind != "json_schema") {
    return fail("response_format.type", "'response_format.type' must be \"text\", \"json_object\" or \"json_schema\"");
  }
  const ojson* spec = find_field(*format, "json_schema");
  if (spec == nullptr || !spec->is_object()) {
    return fail("response_format.json_schema", "'response_format.json_schema' must be an object");
  }
  const auto name = spec->find("name");
  if (name == spec->end() || !name->is_string() || !valid_function_name(name->get<std::string>())) {
    return fail("response_format.json_schema.name",
                "'response_format.json_schema.name' must be a string of a-z, A-Z, 0-9, _ and -, at most 64 characters");
  }
  for (const auto& [key, value] : spec->items()) {
    if (key != "name" && key != "schema" && key != "strict" && key != "description") {
      return fail("response_format.json_schema." + key, "unknown field 'response_format.json_schema." + key + "'");
    }
  }
  bool strict = false;
  if (auto e = read_bool(*spec, "strict", "response_format.json_schema.strict", strict)) return e;
  const ojson* schema = find_field(*spec, "schema");
  const ojson any_schema = ojson::object();
  auto grammar = json_schema_grammar(schema != nullptr ? *schema : any_schema, SchemaOptions{strict});
  if (!grammar) return fail("response_format.json_schema.schema", grammar.error().message());
  out.format = ResponseFormatKind::kJsonSchema;
  out.format_grammar = *grammar;
  return std::nullopt;
}

Result read_tool(const ojson& tool, const std::string& param, ToolFunction& out) {
  if (!tool.is_object()) return fail(param, "'" + param + "' must be an object");
  const auto type = tool.find("type");
  if (type == tool.end() || *type != "function") {
    return fail(param + ".type", "'" + param + ".type' must be \"function\" (the only tool type frugal runs)");
  }
  const ojson* function = find_field(tool, "function");
  if (function == nullptr || !function->is_object()) return fail(param + ".function", "'" + param + ".function' must be an object");
  const auto name = function->find("name");
  if (name == function->end() || !name->is_string() || !valid_function_name(name->get<std::string>())) {
    return fail(param + ".function.name", "'" + param +
                                              ".function.name' must be a string of a-z, A-Z, 0-9, _ and -, at most 64 characters");
  }
  out.name = name->get<std::string>();
  for (const auto& [key, value] : function->items()) {
    if (key != "name" && key != "description" && key != "parameters" && key != "strict") {
      return fail(param + ".function." + key, "unknown field '" + param + ".function." + key + "'");
    }
  }
  if (const ojson* description = find_field(*function, "description")) {
    if (!description->is_string()) return fail(param + ".function.description", "'description' must be a string");
    out.description = description->get<std::string>();
  }
  if (auto e = read_bool(*function, "strict", param + ".function.strict", out.strict)) return e;
  if (const ojson* parameters = find_field(*function, "parameters")) out.parameters = *parameters;
  if (!out.parameters.is_object()) return fail(param + ".function.parameters", "'parameters' must be a JSON schema object");
  // Compiled now so that an unsupported keyword is refused before anything runs.
  Grammar probe;
  auto node = compile_json_schema(out.parameters, SchemaOptions{out.strict}, probe);
  if (!node) return fail(param + ".function.parameters", node.error().message());
  return std::nullopt;
}

Result read_tools(const ojson& body, StructuredRequest& out) {
  const ojson* tools = find_field(body, "tools");
  if (tools != nullptr) {
    if (!tools->is_array()) return fail("tools", "'tools' must be an array");
    if (tools->size() > kMaxTools) return fail("tools", "at most " + std::to_string(kMaxTools) + " tools");
    for (size_t tool_idx = 0; tool_idx < tools->size(); ++tool_idx) {
      ToolFunction function;
      if (auto e = read_tool((*tools)[tool_idx], "tools[" + std::to_string(tool_idx) + "]", function)) return e;
      for (const ToolFunction& other : out.tools) {
        if (other.name == function.name) return fail("tools", "two tools are named '" + function.name + "'");
      }
      out.tools.push_back(std::move(function));
    }
  }
  out.tool_choice = out.tools.empty() ? ToolChoiceKind::kNone : ToolChoiceKind::kAuto;
  if (auto e = read_bool(body, "parallel_tool_calls", "parallel_tool_calls", out.parallel_tool_calls)) return e;
  const ojson* choice = find_field(body, "tool_choice");
  if (choice == nullptr) return std::nullopt;
  if (choice->is_string()) {
    const std::string mode = choice->get<std::string>();
    if (mode == "none") out.tool_choice = ToolChoiceKind::kNone;
    else if (mode == "auto") out.tool_choice = ToolChoiceKind::kAuto;
    else if (mode == "required") out.tool_choice = ToolChoiceKind::kRequired;
    else return fail("tool_choice", "'tool_choice' must be \"none\", \"auto\", \"required\" or a function");
  } else if (choice->is_object()) {
    const auto type = choice->find("type");
    const ojson* function = find_field(*choice, "function");
    if (type == choice->end() || *type != "function" || function == nullptr || !function->is_object() ||
        !function->contains("name") || !(*function)["name"].is_string()) {
      return fail("tool_choice", "'tool_choice' as an object must be {\"type\": \"function\", \"function\": {\"name\": ...}}");
    }
    out.tool_choice = ToolChoiceKind::kFunction;
    out.tool_choice_name = (*function)["name"].get<std::string>();
    bool known = false;
    for (const ToolFunction& tool : out.tools) known = known || tool.name == out.tool_choice_name;
    if (!known) return fail("tool_choice", "'tool_choice' names '" + out.tool_choice_name + "', which is not in 'tools'");
  } else {
    return fail("tool_choice", "'tool_choice' must be a string or an object");
  }
  if (out.tools.empty() && out.tool_choice != ToolChoiceKind::kNone) {
    return fail("tool_choice", "'tool_choice' needs 'tools'");
  }
  return std::nullopt;
}

}  // namespace

std::optional<InvalidField> parse_structured_request(ApiEndpoint endpoint, const nlohmann::ordered_json& body,
                                                     StructuredRequest& out) {
  out = StructuredRequest{};
  if (!body.is_object()) return std::nullopt;
  if (auto e = read_response_format(body, out)) return e;
  if (endpoint == ApiEndpoint::kCompletions) {
    for (const char* key : {"tools", "tool_choice", "parallel_tool_calls"}) {
      if (find_field(body, key) != nullptr) {
        return fail(key, std::string("'") + key + "' is only available on /v1/chat/completions");
      }
    }
    return std::nullopt;
  }
  if (auto e = read_tools(body, out)) return e;
  if (out.uses_tools() && out.format != ResponseFormatKind::kText && out.tool_choice == ToolChoiceKind::kAuto) {
    return fail("response_format", "'response_format' with tool_choice \"auto\" is not supported: use tool_choice "
                                   "\"none\" for a structured answer, or \"required\" for a tool call");
  }
  return std::nullopt;
}

}  // namespace frugal
