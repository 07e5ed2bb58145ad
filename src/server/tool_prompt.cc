#include "server/tool_prompt.h"

namespace frugal {
namespace {

using ojson = nlohmann::ordered_json;

// Qwen2.5-Instruct's default system message (its template adds it when there is none).
constexpr std::string_view kQwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

ojson tool_json(const ToolFunction& tool) {
  ojson function = {{"name", tool.name}};
  if (!tool.description.empty()) function["description"] = tool.description;
  function["parameters"] = tool.parameters;
  return ojson{{"type", "function"}, {"function", function}};
}

// Qwen2.5's tool block (also the generic format's), appended to the system message.
std::string hermes_tool_block(const std::vector<ToolFunction>& tools) {
  std::string out =
      "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function "
      "signatures within <tools></tools> XML tags:\n<tools>";
  for (const ToolFunction& tool : tools) out += "\n" + tool_json(tool).dump();
  out += "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
         "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
         "<args-json-object>}\n</tool_call>";
  return out;
}

// Llama 3.1's custom-tool preamble, put in front of the first user message.
std::string llama_tool_block(const std::vector<ToolFunction>& tools) {
  std::string out =
      "Given the following functions, please respond with a JSON for a function call with its proper arguments that "
      "best answers the given prompt.\n\nRespond in the format {\"name\": function name, \"parameters\": dictionary of "
      "argument name and its value}.Do not use variables.\n\n";
  for (const ToolFunction& tool : tools) out += tool_json(tool).dump(4) + "\n\n";
  return out;
}

std::string call_text(ToolSyntax syntax, const ToolCall& call) {
  const ojson args = ojson::parse(call.arguments, nullptr, false);
  const std::string arguments = args.is_discarded() ? ojson(call.arguments).dump() : args.dump();
  switch (syntax) {
    case ToolSyntax::kHermes:
      return "<tool_call>\n{\"name\": " + ojson(call.name).dump() + ", \"arguments\": " + arguments + "}\n</tool_call>";
    case ToolSyntax::kLlama31: return "{\"name\": " + ojson(call.name).dump() + ", \"parameters\": " + arguments + "}";
    case ToolSyntax::kMistral:
      return "{\"name\": " + ojson(call.name).dump() + ", \"arguments\": " + arguments + ", \"id\": " +
             ojson(call.id).dump() + "}";
  }
  return {};
}

std::string assistant_text(ToolSyntax syntax, const ChatMessage& message, const MessageTools& tools) {
  if (tools.tool_calls.empty()) return message.content;
  std::string out = message.content;
  if (syntax == ToolSyntax::kMistral) {
    out += "[TOOL_CALLS] [";
    for (size_t i = 0; i < tools.tool_calls.size(); ++i) out += (i > 0 ? ", " : "") + call_text(syntax, tools.tool_calls[i]);
    return out + "]";
  }
  for (const ToolCall& call : tools.tool_calls) out += (out.empty() ? "" : "\n") + call_text(syntax, call);
  return out;
}

std::string tool_result_text(ToolSyntax syntax, const ChatMessage& message, const MessageTools& tools) {
  switch (syntax) {
    case ToolSyntax::kHermes: return "<tool_response>\n" + message.content + "\n</tool_response>";
    case ToolSyntax::kLlama31: return message.content;
    case ToolSyntax::kMistral:
      return "[TOOL_RESULTS] " + ojson{{"content", message.content}, {"call_id", tools.tool_call_id}}.dump() +
             "[/TOOL_RESULTS]";
  }
  return message.content;
}

}  // namespace

bool needs_tool_rendering(const ApiRequest& request) {
  if (request.structured.uses_tools()) return true;
  for (size_t i = 0; i < request.messages.size(); ++i) {
    if (request.messages[i].role == "tool" || !request.message_tools[i].tool_calls.empty()) return true;
  }
  return false;
}

Expected<std::vector<ChatMessage>> render_tool_conversation(ToolSyntax syntax, ChatFormat format,
                                                            const ApiRequest& request) {
  std::vector<ChatMessage> out;
  const std::vector<ToolFunction>& tools = request.structured.tools;
  const bool offer = !tools.empty() && request.structured.tool_choice != ToolChoiceKind::kNone;
  bool tools_placed = !offer;
  if (offer && syntax == ToolSyntax::kHermes) {
    // The tool block joins the system message (Qwen2.5 keeps its default one in front of it).
    std::string system;
    if (!request.messages.empty() && request.messages.front().role == "system") {
      system = request.messages.front().content + "\n\n";
    } else if (format == ChatFormat::kQwen2) {
      system = std::string(kQwenDefaultSystem) + "\n\n";
    }
    out.push_back(ChatMessage{"system", system + hermes_tool_block(tools)});
    tools_placed = true;
  }
  size_t last_user = request.messages.size();
  for (size_t i = 0; i < request.messages.size(); ++i) {
    if (request.messages[i].role == "user") last_user = i;
  }
  for (size_t i = 0; i < request.messages.size(); ++i) {
    const ChatMessage& message = request.messages[i];
    const MessageTools& extra = request.message_tools[i];
    if (message.role == "system" && syntax == ToolSyntax::kHermes && offer && i == 0) continue;  // merged above
    if (message.role == "assistant") {
      out.push_back(ChatMessage{"assistant", assistant_text(syntax, message, extra)});
    } else if (message.role == "tool") {
      const std::string text = tool_result_text(syntax, message, extra);
      if (syntax == ToolSyntax::kLlama31) {
        out.push_back(ChatMessage{"ipython", text});
      } else if (!out.empty() && out.back().role == "user" && i > 0 && request.messages[i - 1].role == "tool") {
        out.back().content += "\n" + text;  // consecutive results share one user turn
      } else {
        out.push_back(ChatMessage{"user", text});
      }
    } else if (message.role == "user" && !tools_placed &&
               ((syntax == ToolSyntax::kLlama31) || (syntax == ToolSyntax::kMistral && i == last_user))) {
      std::string block = syntax == ToolSyntax::kLlama31 ? llama_tool_block(tools) : "";
      if (syntax == ToolSyntax::kMistral) {
        ojson list = ojson::array();
        for (const ToolFunction& tool : tools) list.push_back(tool_json(tool));
        block = "[AVAILABLE_TOOLS] " + list.dump() + "[/AVAILABLE_TOOLS]";
      }
      out.push_back(ChatMessage{"user", block + message.content});
      tools_placed = true;
    } else {
      out.push_back(message);
    }
  }
  if (!tools_placed) return invalid_argument("tools need a user message to go with");
  return out;
}

}  // namespace frugal
