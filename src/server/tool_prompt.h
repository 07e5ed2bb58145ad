// A conversation with tools -> the plain messages a chat template renders (server layer): the
// tool list goes where the model's own template puts it, assistant tool calls become the text the
// model would have written, and tool results become the turns the template expects
// (tool_calls.h names the three syntaxes).
#pragma once

#include <vector>

#include "core/expected.h"
#include "server/openai_schema.h"
#include "server/tool_calls.h"

namespace frugal {

// Whether the conversation needs tool rendering (tools offered, tool calls or tool results).
bool needs_tool_rendering(const ApiRequest& request);

// request.messages / message_tools / structured.tools -> messages with roles system, user,
// assistant (and "ipython" for Llama 3.1 tool results).
Expected<std::vector<ChatMessage>> render_tool_conversation(ToolSyntax syntax, ChatFormat format,
                                                            const ApiRequest& request);

}  // namespace frugal
