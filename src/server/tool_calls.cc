#include "server/tool_calls.h"

#include <random>

#include "grammar/json_schema.h"

namespace frugal {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kHermesOpen = "<tool_call>";
constexpr std::string_view kHermesClose = "</tool_call>";
constexpr std::string_view kMistralOpen = "[TOOL_CALLS]";

std::string_view trim_left(std::string_view text) {
  while (!text.empty() && (text[0] == ' ' || text[0] == '\n' || text[0] == '\t' || text[0] == '\r')) text.remove_prefix(1);
  return text;
}

std::string_view trim(std::string_view text) {
  text = trim_left(text);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

const char* arguments_key(ToolSyntax syntax) { return syntax == ToolSyntax::kLlama31 ? "parameters" : "arguments"; }

Part literal_part(std::string text) {
  Part part;
  part.kind = PartKind::kLiteral;
  part.literal = LiteralSet::from({{std::move(text), 0}});
  return part;
}

std::string fresh_call_id() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += kAlphabet[rng() % kAlphabet.size()];
  return id;
}

// One call object {"name": ..., "arguments": ...} -> a ToolCall, if it names a known tool.
std::optional<ToolCall> read_call(const ojson& object, ToolSyntax syntax, const std::vector<ToolFunction>& tools) {
  if (!object.is_object()) return std::nullopt;
  const auto name = object.find("name");
  if (name == object.end() || !name->is_string()) return std::nullopt;
  bool known = false;
  for (const ToolFunction& tool : tools) known = known || tool.name == name->get<std::string>();
  if (!known) return std::nullopt;
  auto arguments = object.find(arguments_key(syntax));
  if (arguments == object.end()) arguments = object.find("arguments");
  if (arguments == object.end() || !arguments->is_object()) return std::nullopt;
  return ToolCall{fresh_call_id(), name->get<std::string>(), arguments->dump()};
}

}  // namespace

ToolSyntax tool_syntax_for(ChatFormat format) {
  switch (format) {
    case ChatFormat::kLlama3: return ToolSyntax::kLlama31;
    case ChatFormat::kMistral: return ToolSyntax::kMistral;
    case ChatFormat::kChatML:
    case ChatFormat::kQwen2:
    case ChatFormat::kLlama2:
    case ChatFormat::kGemma:
    case ChatFormat::kZephyr: return ToolSyntax::kHermes;
  }
  return ToolSyntax::kHermes;
}

std::string_view tool_syntax_name(ToolSyntax syntax) {
  switch (syntax) {
    case ToolSyntax::kHermes: return "hermes";
    case ToolSyntax::kLlama31: return "llama3.1";
    case ToolSyntax::kMistral: return "mistral";
  }
  return "hermes";
}

std::string tool_call_trigger(ToolSyntax syntax) {
  switch (syntax) {
    case ToolSyntax::kHermes: return std::string(kHermesOpen);
    case ToolSyntax::kLlama31: return "{\"name\"";
    case ToolSyntax::kMistral: return std::string(kMistralOpen);
  }
  return {};
}

Expected<std::shared_ptr<const Grammar>> tool_call_grammar(ToolSyntax syntax, const std::vector<ToolFunction>& tools,
                                                           const std::string& only) {
  auto grammar = std::make_shared<Grammar>();
  std::vector<std::pair<std::string, int32_t>> names;
  Part arguments;
  arguments.kind = PartKind::kChoiceValue;
  for (const ToolFunction& tool : tools) {
    if (!only.empty() && tool.name != only) continue;
    Expected<int32_t> node = compile_json_schema(tool.parameters, SchemaOptions{tool.strict}, *grammar);
    if (!node) return node.error();
    // Arguments are always an object; a schema that allows other values is narrowed to objects.
    if (grammar->node(*node).kind != NodeKind::kObject) {
      const Node& n = grammar->node(*node);
      if (n.kind != NodeKind::kAny) {
        return invalid_argument("the parameters of '" + tool.name + "' must describe an object");
      }
      node = grammar->builtins().object;
    }
    names.emplace_back(json_quote(tool.name), static_cast<int32_t>(arguments.variants.size()));
    arguments.variants.push_back(*node);
  }
  if (names.empty()) return invalid_argument("no tool named '" + only + "'");
  Node call;
  call.kind = NodeKind::kSequence;
  call.whitespace_between_parts = true;
  call.parts.push_back(literal_part("{"));
  call.parts.push_back(literal_part("\"name\""));
  call.parts.push_back(literal_part(":"));
  Part choice;
  choice.kind = PartKind::kChoice;
  choice.literal = LiteralSet::from(std::move(names));
  call.parts.push_back(std::move(choice));
  call.parts.push_back(literal_part(","));
  call.parts.push_back(literal_part(std::string("\"") + arguments_key(syntax) + "\""));
  call.parts.push_back(literal_part(":"));
  call.parts.push_back(std::move(arguments));
  call.parts.push_back(literal_part("}"));
  const int32_t call_node = grammar->add(std::move(call));

  Node root;
  root.kind = NodeKind::kSequence;
  Part value;
  value.kind = PartKind::kValue;
  value.node = call_node;
  switch (syntax) {
    case ToolSyntax::kHermes:
      root.parts.push_back(literal_part(std::string(kHermesOpen) + "\n"));
      root.parts.push_back(std::move(value));
      root.parts.push_back(literal_part("\n" + std::string(kHermesClose)));
      break;
    case ToolSyntax::kLlama31: root.parts.push_back(std::move(value)); break;
    case ToolSyntax::kMistral:
      root.parts.push_back(literal_part(std::string(kMistralOpen) + " ["));
      root.parts.push_back(std::move(value));
      root.parts.push_back(literal_part("]"));
      break;
  }
  grammar->set_root(grammar->add(std::move(root)));
  grammar->finalize();
  return std::shared_ptr<const Grammar>(std::move(grammar));
}

std::optional<ParsedToolCalls> parse_tool_calls(ToolSyntax syntax, const std::string& text,
                                                const std::vector<ToolFunction>& tools) {
  ParsedToolCalls parsed;
  std::string_view rest = trim(text);
  if (syntax == ToolSyntax::kHermes) {
    const size_t open = rest.find(kHermesOpen);
    if (open == std::string_view::npos) return std::nullopt;
    const std::string_view before = trim(rest.substr(0, open));
    if (!before.empty()) parsed.content = std::string(before);
    rest = rest.substr(open);
    while (rest.substr(0, kHermesOpen.size()) == kHermesOpen) {
      rest.remove_prefix(kHermesOpen.size());
      const size_t close = rest.find(kHermesClose);
      const ojson object = ojson::parse(rest.substr(0, close), nullptr, false);
      std::optional<ToolCall> call = read_call(object, syntax, tools);
      if (!call) return std::nullopt;
      parsed.calls.push_back(std::move(*call));
      if (close == std::string_view::npos) break;
      rest = trim_left(rest.substr(close + kHermesClose.size()));
    }
    if (!trim(rest).empty() && rest.substr(0, kHermesOpen.size()) != kHermesOpen && !parsed.calls.empty()) {
      // Text after the last call: keep it as content rather than lose it.
      parsed.content = parsed.content.value_or("") + std::string(trim(rest));
    }
    return parsed;
  }
  if (syntax == ToolSyntax::kMistral) {
    if (rest.substr(0, kMistralOpen.size()) == kMistralOpen) rest = trim_left(rest.substr(kMistralOpen.size()));
    const ojson array = ojson::parse(rest, nullptr, false);
    if (!array.is_array() || array.empty()) return std::nullopt;
    for (const ojson& item : array) {
      std::optional<ToolCall> call = read_call(item, syntax, tools);
      if (!call) return std::nullopt;
      parsed.calls.push_back(std::move(*call));
    }
    return parsed;
  }
  std::optional<ToolCall> call = read_call(ojson::parse(rest, nullptr, false), syntax, tools);
  if (!call) return std::nullopt;
  parsed.calls.push_back(std::move(*call));
  return parsed;
}

bool may_become_tool_call(ToolSyntax syntax, std::string_view text) {
  const std::string trigger = tool_call_trigger(syntax);
  text = trim_left(text);
  const size_t n = std::min(text.size(), trigger.size());
  if (text.substr(0, n) == std::string_view(trigger).substr(0, n)) return true;
  // Mistral's [TOOL_CALLS] is a control token that the text does not show: a bare array counts.
  return syntax == ToolSyntax::kMistral && (text.empty() || text[0] == '[');
}

}  // namespace frugal
