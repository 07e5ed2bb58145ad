// Tool calls in the model's own format (server layer): which syntax a chat format uses, the
// grammar that constrains a call (the function name is one of the tools, the arguments follow that
// function's JSON-schema `parameters`), and parsing generated text back into OpenAI tool_calls.
//   Hermes (ChatML, Qwen2.5, and the documented generic format for every other template):
//     <tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>
//   Llama 3.1 (custom tools): {"name": "f", "parameters": {...}}
//   Mistral: [TOOL_CALLS] [{"name": "f", "arguments": {...}}]
// frugal generates at most one call per assistant turn.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "grammar/grammar.h"
#include "server/openai_schema.h"
#include "tokenizer/chat_template.h"

namespace frugal {

enum class ToolSyntax { kHermes, kLlama31, kMistral };

ToolSyntax tool_syntax_for(ChatFormat format);
std::string_view tool_syntax_name(ToolSyntax syntax);  // "hermes" | "llama3.1" | "mistral"

// The grammar of one call to any of `tools` (only the one named `only`, when not empty).
Expected<std::shared_ptr<const Grammar>> tool_call_grammar(ToolSyntax syntax, const std::vector<ToolFunction>& tools,
                                                           const std::string& only);
// How a call begins: with tool_choice "auto" the output is free text unless it starts with this.
std::string tool_call_trigger(ToolSyntax syntax);

// The calls in a generated message, if it is one (names must be among `tools`).
struct ParsedToolCalls {
  std::optional<std::string> content;  // text before the calls; nullopt when there is none
  std::vector<ToolCall> calls;         // ids are fresh "call_..." ids
};
std::optional<ParsedToolCalls> parse_tool_calls(ToolSyntax syntax, const std::string& text,
                                                const std::vector<ToolFunction>& tools);

// Whether text generated so far may still become a call (a stream holds it back meanwhile).
bool may_become_tool_call(ToolSyntax syntax, std::string_view text);

}  // namespace frugal
