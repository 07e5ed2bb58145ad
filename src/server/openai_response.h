// OpenAI response bodies and stream chunks (server layer): text_completion / chat.completion
// objects, their .chunk streaming forms, usage and both logprobs shapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/request.h"
#include "server/openai_schema.h"
#include "server/tool_calls.h"
#include "tokenizer/tokenizer.h"

namespace frugal {

struct ResponseHeader {
  ApiEndpoint endpoint = ApiEndpoint::kCompletions;
  std::string id;       // "cmpl-..." / "chatcmpl-..."
  int64_t created = 0;  // unix seconds
  std::string model;
};

ResponseHeader make_response_header(ApiEndpoint endpoint, const std::string& model);

// "stop" | "length" (a full context is reported as "length", as OpenAI does).
const char* finish_reason_string(FinishReason reason);

// prompt/completion/total + prompt_tokens_details.cached_tokens, and frugal's live cost meter:
// compute_seconds (the engine step time charged) and cost_usd (0 when the server has no price).
nlohmann::json usage_json(const Usage& usage);
// The X-Frugal-Cost-USD header value: fixed-point, 10 decimals ("0.0000012345").
std::string format_cost_usd(double cost_usd);

// Completions: {"tokens", "token_logprobs", "top_logprobs": [{piece: logprob}], "text_offset"};
// text_offset counts bytes from `first_offset`.
nlohmann::json completion_logprobs_json(const Tokenizer& tokenizer, const std::vector<TokenLogprobs>& logprobs,
                                        int64_t first_offset);
// Chat: {"content": [{"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}]}.
nlohmann::json chat_logprobs_json(const Tokenizer& tokenizer, const std::vector<TokenLogprobs>& logprobs);

// The result of one choice, collected for a non-streaming response.
struct ChoiceResult {
  std::string text;
  FinishReason finish = FinishReason::kLength;
  std::vector<TokenLogprobs> logprobs;
  std::optional<ParsedToolCalls> tool_calls;  // chat with tools: the message is a call
};

// The tool_calls array of a message: [{"id", "type": "function", "function": {"name", "arguments"}}].
nlohmann::json tool_calls_json(const std::vector<ToolCall>& calls);
// The stream chunks that deliver a message's calls, as OpenAI sends them: per call, one delta with
// id, type, name and empty arguments, then one with the arguments.
std::vector<nlohmann::json> tool_call_chunks_json(const ResponseHeader& header, int32_t index,
                                                  const std::vector<ToolCall>& calls, bool include_usage);

// The whole non-streaming response.
nlohmann::json full_response_json(const ResponseHeader& header, const Tokenizer& tokenizer,
                                  const std::vector<ChoiceResult>& choices, bool with_logprobs, const Usage& usage);

// One streaming chunk for choice `index`. Chat: `delta` is {"role"...}/{"content"...}/{}.
// Completions: the text goes in choices[].text. finish: nullptr -> null. include_usage adds "usage": null.
nlohmann::json stream_chunk_json(const ResponseHeader& header, int32_t index, const std::string& text,
                                 const nlohmann::json& logprobs, const char* finish, bool include_usage,
                                 bool role_delta = false);
// The last chunk of stream_options.include_usage: "choices": [] and the usage.
nlohmann::json usage_chunk_json(const ResponseHeader& header, const Usage& usage);

// Usage over all choices: prompt tokens count once per prompt (not once per choice, as OpenAI
// reports n > 1), completion tokens add up, cached tokens are the best of a prompt's choices;
// compute seconds and cost add up over every choice (each one ran as its own engine request).
class UsageTotals {
 public:
  UsageTotals(size_t num_prompts, int32_t n) : n_(n), per_prompt_(num_prompts) {}
  void add(int32_t choice_idx, const Usage& usage);
  Usage total() const;

 private:
  int32_t n_;
  std::vector<Usage> per_prompt_;
};

// Serializes for the wire; invalid UTF-8 (a token piece that splits a character) becomes U+FFFD.
std::string dump_json(const nlohmann::json& value);

}  // namespace frugal
