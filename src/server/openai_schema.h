// OpenAI request bodies -> validated request structs (server layer). Checks JSON types and value
// ranges field by field and names the offending field. Every field is honoured or refused: an
// unknown field, or one frugal does not implement (best_of > n, suffix, audio, ...), is a 400
// naming it. Checks that need the model (context length, vocabulary) happen later, in
// request_builder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sampling/sampling_params.h"
#include "server/api_types.h"
#include "server/structured_request.h"
#include "tokenizer/chat_template.h"

namespace frugal {

// OpenAI's limits, which we keep so clients see the same behaviour.
inline constexpr size_t kMaxStopStrings = 4;
inline constexpr int32_t kMaxChoices = 16;         // n; each choice is an engine request
inline constexpr int32_t kMaxTopLogprobs = 20;     // chat top_logprobs (the engine's limit too)
inline constexpr int32_t kMaxCompletionLogprobs = 5;  // completions `logprobs`

struct PromptInput {
  bool is_tokens = false;
  std::string text;             // !is_tokens
  std::vector<int32_t> tokens;  // is_tokens: used as-is (no BOS added)
};

inline constexpr size_t kMaxLogitBiasEntries = 100000;
inline constexpr size_t kMaxUserLength = 256;

// A function call made by an assistant turn of the conversation (messages[i].tool_calls).
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // a JSON text, as OpenAI sends it
};

// What a chat message carries besides role and content.
struct MessageTools {
  std::vector<ToolCall> tool_calls;  // assistant
  std::string tool_call_id;          // role "tool": the call this result answers
};

struct ApiRequest {
  ApiEndpoint endpoint = ApiEndpoint::kCompletions;
  std::string model;                  // "" when absent
  std::vector<PromptInput> prompts;   // completions: one or more prompts
  std::vector<ChatMessage> messages;  // chat
  std::vector<MessageTools> message_tools;  // chat: [messages.size()]
  StructuredRequest structured;       // response_format, tools, tool_choice
  std::string user;                   // OpenAI's end-user id: logged with the request
  SamplingParams sampling;            // OpenAI defaults: temperature 1, no truncation, no penalties
  bool seed_given = false;
  std::optional<int64_t> max_tokens;  // absent: completions 16 (OpenAI), chat until the context ends
  std::vector<std::string> stop;
  int32_t n = 1;
  bool stream = false;
  bool include_usage = false;         // stream_options.include_usage
  int32_t top_logprobs = -1;          // -1: no logprobs
  int32_t priority = 0;
  bool ignore_eos = false;            // extension (llama.cpp's name)
  bool speculation = true;            // extension: false opts this request out of speculative decoding
};

// Parses a request body already decoded as JSON. On failure returns the field to report.
// ordered_body: the same body parsed order-preserving, for the schemas of response_format and
// tools (property order); when null, one is made from `body` (keys then come sorted).
std::optional<InvalidField> parse_api_request(ApiEndpoint endpoint, const nlohmann::json& body, ApiRequest& out,
                                              const nlohmann::ordered_json* ordered_body = nullptr);

}  // namespace frugal
