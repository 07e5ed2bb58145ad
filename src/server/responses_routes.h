// POST /v1/responses for text (server layer): OpenAI's Responses API over the chat path. The
// request ({"model", "input": string | [message items], "instructions", "max_output_tokens",
// "temperature", "top_p", "stream"}) becomes a chat completion request (instructions -> a system
// message; input_text / output_text parts -> message text), which runs as any chat request does
// (routing, the model's recommended settings, the cost meter); its answer becomes a Response object
// ({"object": "response", "status": "completed" | "incomplete", "output": [one assistant message
// with one output_text part], "usage": {"input_tokens", "output_tokens", "total_tokens", ...}}).
// Streaming sends OpenAI's typed events: response.created, response.in_progress,
// response.output_item.added, response.content_part.added, response.output_text.delta (one per
// chat chunk), response.output_text.done, response.content_part.done, response.output_item.done,
// response.completed (or error + response.failed), each with a sequence_number.
// Not supported (400 naming the field): tools, non-text input parts, previous_response_id.
#pragma once

#include <string>

#include "server/openai_routes.h"

namespace frugal {

ApiReply handle_responses_request(const ApiContext& context, const std::string& body, SteadyClock::time_point arrival);

}  // namespace frugal
