#include "server/openai_response.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

namespace frugal {
namespace {

using json = nlohmann::json;

std::string random_hex(size_t length) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(length, '0');
  for (char& c : out) c = kDigits[rng() & 15];
  return out;
}

json byte_list(const std::string& piece) {
  json bytes = json::array();
  for (const char c : piece) bytes.push_back(static_cast<int>(static_cast<unsigned char>(c)));
  return bytes;
}

const char* object_name(ApiEndpoint endpoint, bool chunk) {
  if (endpoint == ApiEndpoint::kCompletions) return "text_completion";
  return chunk ? "chat.completion.chunk" : "chat.completion";
}

json header_json(const ResponseHeader& header, bool chunk) {
  return json{{"id", header.id}, {"object", object_name(header.endpoint, chunk)}, {"created", header.created},
              {"model", header.model}};
}

}  // namespace

ResponseHeader make_response_header(ApiEndpoint endpoint, const std::string& model) {
  ResponseHeader header;
  header.endpoint = endpoint;
  header.id = (endpoint == ApiEndpoint::kCompletions ? "cmpl-" : "chatcmpl-") + random_hex(24);
  header.created = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  header.model = model;
  return header;
}

const char* finish_reason_string(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
    case FinishReason::kContextFull:
      return "length";
  }
  return "length";
}

json usage_json(const Usage& usage) {
  return json{{"prompt_tokens", usage.prompt_tokens},
              {"completion_tokens", usage.completion_tokens},
              {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", usage.cached_tokens}}},
              {"compute_seconds", usage.compute_seconds},
              {"cost_usd", usage.cost_usd}};
}

std::string format_cost_usd(double cost_usd) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.10f", cost_usd);
  return buffer;
}

json completion_logprobs_json(const Tokenizer& tokenizer, const std::vector<TokenLogprobs>& logprobs,
                              int64_t first_offset) {
  json tokens = json::array(), token_logprobs = json::array(), top = json::array(), offsets = json::array();
  int64_t offset = first_offset;
  for (const TokenLogprobs& entry : logprobs) {
    const std::string piece = tokenizer.token_to_piece(entry.token);
    tokens.push_back(piece);
    token_logprobs.push_back(entry.logprob);
    json alternatives = json::object();
    for (const auto& alt : entry.top) alternatives[tokenizer.token_to_piece(alt.token)] = alt.logprob;
    top.push_back(std::move(alternatives));
    offsets.push_back(offset);
    offset += static_cast<int64_t>(piece.size());
  }
  return json{{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top}, {"text_offset", offsets}};
}

json chat_logprobs_json(const Tokenizer& tokenizer, const std::vector<TokenLogprobs>& logprobs) {
  json content = json::array();
  for (const TokenLogprobs& entry : logprobs) {
    const std::string piece = tokenizer.token_to_piece(entry.token);
    json top = json::array();
    for (const auto& alt : entry.top) {
      const std::string alt_piece = tokenizer.token_to_piece(alt.token);
      top.push_back(json{{"token", alt_piece}, {"logprob", alt.logprob}, {"bytes", byte_list(alt_piece)}});
    }
    content.push_back(
        json{{"token", piece}, {"logprob", entry.logprob}, {"bytes", byte_list(piece)}, {"top_logprobs", top}});
  }
  return json{{"content", content}};
}

json full_response_json(const ResponseHeader& header, const Tokenizer& tokenizer,
                        const std::vector<ChoiceResult>& choices, bool with_logprobs, const Usage& usage) {
  json body = header_json(header, /*chunk=*/false);
  json out_choices = json::array();
  for (size_t choice_idx = 0; choice_idx < choices.size(); ++choice_idx) {
    const ChoiceResult& choice = choices[choice_idx];
    json item = {{"index", choice_idx}, {"finish_reason", finish_reason_string(choice.finish)}};
    if (header.endpoint == ApiEndpoint::kCompletions) {
      item["text"] = choice.text;
      item["logprobs"] = with_logprobs ? completion_logprobs_json(tokenizer, choice.logprobs, 0) : json(nullptr);
    } else {
      item["message"] = {{"role", "assistant"}, {"content", choice.text}};
      if (choice.tool_calls) {
        item["message"]["content"] = choice.tool_calls->content ? json(*choice.tool_calls->content) : json(nullptr);
        item["message"]["tool_calls"] = tool_calls_json(choice.tool_calls->calls);
        item["finish_reason"] = "tool_calls";
      }
      item["logprobs"] = with_logprobs ? chat_logprobs_json(tokenizer, choice.logprobs) : json(nullptr);
    }
    out_choices.push_back(std::move(item));
  }
  body["choices"] = std::move(out_choices);
  body["usage"] = usage_json(usage);
  return body;
}

json stream_chunk_json(const ResponseHeader& header, int32_t index, const std::string& text, const json& logprobs,
                       const char* finish, bool include_usage, bool role_delta) {
  json body = header_json(header, /*chunk=*/true);
  json choice = {{"index", index}, {"logprobs", logprobs}};
  choice["finish_reason"] = finish != nullptr ? json(finish) : json(nullptr);
  if (header.endpoint == ApiEndpoint::kCompletions) {
    choice["text"] = text;
  } else {
    json delta = json::object();
    if (role_delta) delta["role"] = "assistant";
    if (role_delta || !text.empty()) delta["content"] = text;
    choice["delta"] = std::move(delta);
  }
  body["choices"] = json::array({std::move(choice)});
  if (include_usage) body["usage"] = nullptr;
  return body;
}

json tool_calls_json(const std::vector<ToolCall>& calls) {
  json out = json::array();
  for (const ToolCall& call : calls) {
    out.push_back(json{{"id", call.id},
                       {"type", "function"},
                       {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
  }
  return out;
}

std::vector<json> tool_call_chunks_json(const ResponseHeader& header, int32_t index, const std::vector<ToolCall>& calls,
                                        bool include_usage) {
  std::vector<json> chunks;
  for (size_t call_idx = 0; call_idx < calls.size(); ++call_idx) {
    const ToolCall& call = calls[call_idx];
    const json opening = {{"index", call_idx},
                          {"id", call.id},
                          {"type", "function"},
                          {"function", {{"name", call.name}, {"arguments", ""}}}};
    const json arguments = {{"index", call_idx}, {"function", {{"arguments", call.arguments}}}};
    for (const json& delta_call : {opening, arguments}) {
      json chunk = stream_chunk_json(header, index, "", nullptr, nullptr, include_usage);
      chunk["choices"][0]["delta"] = json{{"tool_calls", json::array({delta_call})}};
      chunks.push_back(std::move(chunk));
    }
  }
  return chunks;
}

json usage_chunk_json(const ResponseHeader& header, const Usage& usage) {
  json body = header_json(header, /*chunk=*/true);
  body["choices"] = json::array();
  body["usage"] = usage_json(usage);
  return body;
}

void UsageTotals::add(int32_t choice_idx, const Usage& usage) {
  Usage& prompt = per_prompt_[static_cast<size_t>(choice_idx / n_)];
  prompt.prompt_tokens = std::max(prompt.prompt_tokens, usage.prompt_tokens);
  prompt.cached_tokens = std::max(prompt.cached_tokens, usage.cached_tokens);
  prompt.completion_tokens += usage.completion_tokens;
  prompt.compute_seconds += usage.compute_seconds;  // every choice is its own engine request: costs add up
  prompt.cost_usd += usage.cost_usd;
}

Usage UsageTotals::total() const {
  Usage total;
  for (const Usage& prompt : per_prompt_) {
    total.prompt_tokens += prompt.prompt_tokens;
    total.cached_tokens += prompt.cached_tokens;
    total.completion_tokens += prompt.completion_tokens;
    total.compute_seconds += prompt.compute_seconds;
    total.cost_usd += prompt.cost_usd;
  }
  return total;
}

std::string dump_json(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace frugal
