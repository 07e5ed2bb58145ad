#include "server/openai_schema.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string_view>

namespace frugal {
namespace {

using json = nlohmann::json;
using Result = std::optional<InvalidField>;

// Requests that fan out into more engine requests than this (prompts x n) are refused: each one
// holds a queue slot.
constexpr size_t kMaxEngineRequestsPerCall = 64;

Result fail(std::string param, std::string message) { return InvalidField{std::move(param), std::move(message)}; }

std::string type_name(const json& value) { return value.type_name(); }

// A field that is absent or JSON null counts as "not given" (clients send null for unset options).
const json* find_field(const json& body, const char* key) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

Result read_float(const json& body, const char* key, double lo, double hi, float& out) {
  const json* value = find_field(body, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) return fail(key, std::string("'") + key + "' must be a number, got " + type_name(*value));
  const double v = value->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi) {
    return fail(key, std::string("'") + key + "' must be between " + json(lo).dump() + " and " + json(hi).dump() +
                         ", got " + value->dump());
  }
  out = static_cast<float>(v);
  return std::nullopt;
}

// Integers: JSON integers, or floats with an integral value (2.0), within [lo, hi].
Result read_int(const json& body, const char* key, int64_t lo, int64_t hi, int64_t& out, bool* given = nullptr) {
  const json* value = find_field(body, key);
  if (value == nullptr) return std::nullopt;
  const std::string quoted = std::string("'") + key + "'";
  int64_t v = 0;
  if (value->is_number_unsigned()) {
    const uint64_t u = value->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return fail(key, quoted + " is out of range: " + value->dump());
    }
    v = static_cast<int64_t>(u);
  } else if (value->is_number_integer()) {
    v = value->get<int64_t>();
  } else if (value->is_number_float()) {
    const double d = value->get<double>();
    if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9.0e15) {
      return fail(key, quoted + " must be an integer, got " + value->dump());
    }
    v = static_cast<int64_t>(d);
  } else {
    return fail(key, quoted + " must be an integer, got " + type_name(*value));
  }
  if (v < lo || v > hi) {
    return fail(key, quoted + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                         std::to_string(v));
  }
  out = v;
  if (given != nullptr) *given = true;
  return std::nullopt;
}

Result read_bool(const json& body, const char* key, bool& out) {
  const json* value = find_field(body, key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) return fail(key, std::string("'") + key + "' must be a boolean, got " + type_name(*value));
  out = value->get<bool>();
  return std::nullopt;
}

// Every top-level field frugal reads. Anything else is refused by name.
constexpr std::array<std::string_view, 26> kCommonFields = {
    "model", "stream", "stream_options", "temperature", "top_p", "top_k", "min_p", "presence_penalty",
    "frequency_penalty", "repetition_penalty", "repeat_penalty", "seed", "stop", "max_tokens", "n", "priority",
    "ignore_eos", "speculation", "logprobs", "logit_bias", "user", "response_format",
    // the router's extensions (route_request.h)
    "max_usd_per_million_tokens", "latency_slo_ms", "difficulty", "service_tier"};
constexpr std::array<std::string_view, 7> kChatFields = {"messages", "max_completion_tokens", "top_logprobs", "tools",
                                                         "tool_choice", "parallel_tool_calls", "modalities"};
constexpr std::array<std::string_view, 4> kCompletionFields = {"prompt", "echo", "best_of", "suffix"};
// OpenAI fields frugal knows and does not implement: named with the reason.
struct Unsupported {
  std::string_view field;
  std::string_view why;
};
constexpr std::array<Unsupported, 9> kUnsupportedFields = {{
    {"functions", "the deprecated 'functions' is not supported: use 'tools'"},
    {"function_call", "the deprecated 'function_call' is not supported: use 'tool_choice'"},
    {"audio", "audio output is not supported"},
    {"prediction", "predicted outputs are not supported"},
    {"reasoning_effort", "'reasoning_effort' is not supported: frugal serves no reasoning models"},
    {"web_search_options", "web search is not supported"},
    {"store", "stored completions are not supported"},
    {"metadata", "'metadata' belongs to stored completions, which are not supported"},
    {"verbosity", "'verbosity' is not supported"},
}};

template <size_t N>
bool listed(const std::array<std::string_view, N>& list, const std::string& key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

Result check_fields(ApiEndpoint endpoint, const json& body) {
  const bool chat = endpoint == ApiEndpoint::kChatCompletions;
  for (const auto& [key, value] : body.items()) {
    if (listed(kCommonFields, key) || (chat ? listed(kChatFields, key) : listed(kCompletionFields, key))) continue;
    for (const Unsupported& u : kUnsupportedFields) {
      if (key != u.field) continue;
      // A value that asks for nothing is harmless: null, false (store), {} (metadata).
      if (value.is_null() || (value.is_boolean() && !value.get<bool>()) || (value.is_object() && value.empty())) break;
      return fail(key, std::string(u.why));
    }
    if (value.is_null() || std::any_of(kUnsupportedFields.begin(), kUnsupportedFields.end(),
                                       [&name = key](const Unsupported& u) { return name == u.field; })) {
      continue;
    }
    const bool other_endpoint = chat ? listed(kCompletionFields, key) : listed(kChatFields, key);
    return fail(key, other_endpoint ? "'" + key + "' is not a field of " +
                                          (chat ? "/v1/chat/completions" : "/v1/completions")
                                    : "unknown field '" + key + "'");
  }
  return std::nullopt;
}

// logit_bias: {"token id": bias in [-100, 100]}. Ids beyond the vocabulary are checked by the
// request builder, which knows the model.
Result read_logit_bias(const json& body, SamplingParams& out) {
  const json* bias = find_field(body, "logit_bias");
  if (bias == nullptr) return std::nullopt;
  if (!bias->is_object()) return fail("logit_bias", "'logit_bias' must be an object mapping token ids to biases");
  if (bias->size() > kMaxLogitBiasEntries) {
    return fail("logit_bias", "'logit_bias' has more than " + std::to_string(kMaxLogitBiasEntries) + " entries");
  }
  for (const auto& [key, value] : bias->items()) {
    const bool digits = !key.empty() && key.size() <= 10 &&
                        std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
    const int64_t id = digits ? std::stoll(key) : -1;
    if (!digits || id > std::numeric_limits<int32_t>::max()) {
      return fail("logit_bias", "'logit_bias' keys must be token ids (decimal strings), got "" + key + """);
    }
    if (!value.is_number() || !std::isfinite(value.get<double>()) || std::fabs(value.get<double>()) > kMaxLogitBias) {
      return fail("logit_bias", "'logit_bias' values must be numbers between -100 and 100, got " + value.dump() +
                                    " for token " + key);
    }
    out.logit_bias.emplace_back(static_cast<int32_t>(id), value.get<float>());
  }
  return std::nullopt;
}

// Fields accepted only with the value that asks for nothing frugal lacks.
Result read_restricted(ApiEndpoint endpoint, const json& body, const ApiRequest& request) {
  if (const json* tier = find_field(body, "service_tier")) {
    if (!tier->is_string()) return fail("service_tier", "'service_tier' must be a string");
    if (*tier != "auto" && *tier != "default") return fail("service_tier", "'service_tier' must be \"auto\" or \"default\"");
  }
  if (endpoint == ApiEndpoint::kChatCompletions) {
    if (const json* modalities = find_field(body, "modalities")) {
      if (*modalities != json::array({"text"})) return fail("modalities", "only the \"text\" modality is supported");
    }
    return std::nullopt;
  }
  int64_t best_of = request.n;
  if (auto e = read_int(body, "best_of", 1, kMaxChoices, best_of)) return e;
  if (best_of != request.n) {
    return fail("best_of", "'best_of' other than n is not supported (frugal returns every choice it generates)");
  }
  if (const json* suffix = find_field(body, "suffix")) {
    if (!suffix->is_string()) return fail("suffix", "'suffix' must be a string");
    if (!suffix->get<std::string>().empty()) return fail("suffix", "'suffix' (insertion) is not supported");
  }
  return std::nullopt;
}

Result read_sampling(const json& body, ApiRequest& out) {
  SamplingParams& s = out.sampling;
  // OpenAI's defaults: plain sampling at temperature 1 over the whole vocabulary.
  s.temperature = 1.0f;
  s.top_k = 0;
  s.top_p = 1.0f;
  s.min_p = 0.0f;
  s.presence_penalty = 0.0f;
  s.frequency_penalty = 0.0f;
  s.repeat_penalty = 1.0f;
  if (auto e = read_float(body, "temperature", 0.0, 2.0, s.temperature)) return e;
  if (auto e = read_float(body, "top_p", 0.0, 1.0, s.top_p)) return e;
  if (s.top_p <= 0.0f) {  // top_p = 0 keeps only the most likely token: greedy
    s.top_p = 1.0f;
    s.temperature = 0.0f;
  }
  int64_t top_k = 0;
  if (auto e = read_int(body, "top_k", -1, std::numeric_limits<int32_t>::max(), top_k)) return e;
  s.top_k = static_cast<int32_t>(top_k);
  if (auto e = read_float(body, "min_p", 0.0, 1.0, s.min_p)) return e;
  if (auto e = read_float(body, "presence_penalty", -2.0, 2.0, s.presence_penalty)) return e;
  if (auto e = read_float(body, "frequency_penalty", -2.0, 2.0, s.frequency_penalty)) return e;
  for (const char* key : {"repetition_penalty", "repeat_penalty"}) {
    if (auto e = read_float(body, key, 0.0, 10.0, s.repeat_penalty)) return e;
    if (s.repeat_penalty <= 0.0f) return fail(key, std::string("'") + key + "' must be greater than 0");
  }
  if (auto e = read_logit_bias(body, s)) return e;
  const json* seed = find_field(body, "seed");
  if (seed != nullptr) {
    if (!seed->is_number_integer()) return fail("seed", "'seed' must be an integer, got " + type_name(*seed));
    s.seed = seed->is_number_unsigned() ? seed->get<uint64_t>() : static_cast<uint64_t>(seed->get<int64_t>());
    if (s.seed == kRandomSeed) s.seed = 0;  // keep the reserved "random" value out of reach of users
    out.seed_given = true;
  }
  return std::nullopt;
}

Result read_stop(const json& body, std::vector<std::string>& out) {
  const json* stop = find_field(body, "stop");
  if (stop == nullptr) return std::nullopt;
  if (stop->is_string()) {
    out.push_back(stop->get<std::string>());
  } else if (stop->is_array()) {
    for (size_t stop_idx = 0; stop_idx < stop->size(); ++stop_idx) {
      const json& item = (*stop)[stop_idx];
      if (!item.is_string()) {
        return fail("stop", "'stop[" + std::to_string(stop_idx) + "]' must be a string, got " + type_name(item));
      }
      out.push_back(item.get<std::string>());
    }
  } else {
    return fail("stop", "'stop' must be a string or an array of strings, got " + type_name(*stop));
  }
  if (out.size() > kMaxStopStrings) {
    return fail("stop", "'stop' accepts at most " + std::to_string(kMaxStopStrings) + " strings, got " +
                            std::to_string(out.size()));
  }
  for (const std::string& s : out) {
    if (s.empty()) return fail("stop", "'stop' strings must not be empty");
  }
  return std::nullopt;
}

Result read_token_array(const json& array, const std::string& param, std::vector<int32_t>& out) {
  for (const json& item : array) {
    if (!item.is_number_integer() || item.get<int64_t>() < 0 ||
        item.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      return fail(param, "'" + param + "' token ids must be non-negative integers, got " + item.dump());
    }
    out.push_back(static_cast<int32_t>(item.get<int64_t>()));
  }
  if (out.empty()) return fail(param, "'" + param + "' must not be empty");
  return std::nullopt;
}

// prompt: "text" | ["text", ...] | [1, 2, 3] | [[1, 2], [3]]
Result read_prompts(const json& body, std::vector<PromptInput>& out) {
  const json* prompt = find_field(body, "prompt");
  if (prompt == nullptr) return fail("prompt", "'prompt' is required");
  if (prompt->is_string()) {
    out.push_back(PromptInput{false, prompt->get<std::string>(), {}});
    return std::nullopt;
  }
  if (!prompt->is_array()) return fail("prompt", "'prompt' must be a string or an array, got " + type_name(*prompt));
  if (prompt->empty()) return fail("prompt", "'prompt' must not be empty");
  if ((*prompt)[0].is_number()) {
    PromptInput input{true, "", {}};
    if (auto e = read_token_array(*prompt, "prompt", input.tokens)) return e;
    out.push_back(std::move(input));
    return std::nullopt;
  }
  for (size_t prompt_idx = 0; prompt_idx < prompt->size(); ++prompt_idx) {
    const json& item = (*prompt)[prompt_idx];
    const std::string param = "prompt[" + std::to_string(prompt_idx) + "]";
    if (item.is_string()) {
      out.push_back(PromptInput{false, item.get<std::string>(), {}});
    } else if (item.is_array()) {
      PromptInput input{true, "", {}};
      if (auto e = read_token_array(item, param, input.tokens)) return e;
      out.push_back(std::move(input));
    } else {
      return fail("prompt", "'" + param + "' must be a string or an array of token ids, got " + type_name(item));
    }
  }
  return std::nullopt;
}

// content: "text" | [{"type": "text", "text": "..."}, ...] | null (e.g. an assistant turn)
Result read_content(const json& message, const std::string& param, std::string& out) {
  const auto it = message.find("content");
  if (it == message.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) {
    out = it->get<std::string>();
    return std::nullopt;
  }
  if (!it->is_array()) return fail(param, "'" + param + "' must be a string or an array of parts");
  for (size_t part_idx = 0; part_idx < it->size(); ++part_idx) {
    const json& part = (*it)[part_idx];
    const std::string part_param = param + "[" + std::to_string(part_idx) + "]";
    if (!part.is_object()) return fail(part_param, "'" + part_param + "' must be an object");
    const auto type = part.find("type");
    if (type == part.end() || !type->is_string()) return fail(part_param + ".type", "'type' must be a string");
    if (*type != "text") {
      return fail(part_param + ".type", "content part type '" + type->get<std::string>() + "' is not supported");
    }
    const auto text = part.find("text");
    if (text == part.end() || !text->is_string()) return fail(part_param + ".text", "'text' must be a string");
    out += text->get<std::string>();
  }
  return std::nullopt;
}

Result read_tool_calls(const json& message, const std::string& param, MessageTools& out) {
  const auto calls = message.find("tool_calls");
  if (calls == message.end() || calls->is_null()) return std::nullopt;
  if (!calls->is_array()) return fail(param + ".tool_calls", "'tool_calls' must be an array");
  for (size_t call_idx = 0; call_idx < calls->size(); ++call_idx) {
    const json& call = (*calls)[call_idx];
    const std::string call_param = param + ".tool_calls[" + std::to_string(call_idx) + "]";
    const json* function = call.is_object() ? find_field(call, "function") : nullptr;
    const json* id = call.is_object() ? find_field(call, "id") : nullptr;
    if (function == nullptr || !function->is_object() || id == nullptr || !id->is_string() ||
        call.value("type", "function") != "function") {
      return fail(call_param, "'" + call_param + "' must be {\"id\", \"type\": \"function\", \"function\": {...}}");
    }
    const json* name = find_field(*function, "name");
    const json* arguments = find_field(*function, "arguments");
    if (name == nullptr || !name->is_string() || arguments == nullptr || !arguments->is_string()) {
      return fail(call_param + ".function", "a tool call's function needs a string 'name' and string 'arguments'");
    }
    out.tool_calls.push_back(ToolCall{id->get<std::string>(), name->get<std::string>(), arguments->get<std::string>()});
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 6> kMessageFields = {"role", "content", "name", "tool_calls", "tool_call_id",
                                                            "refusal"};

Result read_messages(const json& body, std::vector<ChatMessage>& out, std::vector<MessageTools>& tools) {
  const json* messages = find_field(body, "messages");
  if (messages == nullptr) return fail("messages", "'messages' is required");
  if (!messages->is_array()) return fail("messages", "'messages' must be an array, got " + type_name(*messages));
  if (messages->empty()) return fail("messages", "'messages' must not be empty");
  for (size_t message_idx = 0; message_idx < messages->size(); ++message_idx) {
    const json& message = (*messages)[message_idx];
    const std::string param = "messages[" + std::to_string(message_idx) + "]";
    if (!message.is_object()) return fail(param, "'" + param + "' must be an object");
    const auto role = message.find("role");
    if (role == message.end() || !role->is_string()) return fail(param + ".role", "'role' must be a string");
    for (const auto& [key, value] : message.items()) {
      if (!listed(kMessageFields, key) && !value.is_null()) {
        return fail(param + "." + key, key == "function_call" ? "the deprecated 'function_call' is not supported: use 'tool_calls'"
                                                              : "unknown field '" + param + "." + key + "'");
      }
    }
    ChatMessage chat_message;
    chat_message.role = role->get<std::string>();
    if (chat_message.role == "developer") chat_message.role = "system";  // OpenAI's newer name for it
    if (auto e = read_content(message, param + ".content", chat_message.content)) return e;
    if (const json* name = find_field(message, "name"); name != nullptr && !name->is_string()) {
      return fail(param + ".name", "'name' must be a string");
    }
    MessageTools message_tools;
    if (chat_message.role == "assistant") {
      if (auto e = read_tool_calls(message, param, message_tools)) return e;
    } else if (message.contains("tool_calls") && !message["tool_calls"].is_null()) {
      return fail(param + ".tool_calls", "only assistant messages carry 'tool_calls'");
    }
    if (chat_message.role == "tool") {
      const json* id = find_field(message, "tool_call_id");
      if (id == nullptr || !id->is_string()) return fail(param + ".tool_call_id", "a tool message needs a string 'tool_call_id'");
      message_tools.tool_call_id = id->get<std::string>();
    }
    out.push_back(std::move(chat_message));
    tools.push_back(std::move(message_tools));
  }
  return std::nullopt;
}

Result read_logprobs(ApiEndpoint endpoint, const json& body, ApiRequest& out) {
  if (endpoint == ApiEndpoint::kCompletions) {
    int64_t logprobs = -1;
    if (auto e = read_int(body, "logprobs", 0, kMaxCompletionLogprobs, logprobs)) return e;
    out.top_logprobs = static_cast<int32_t>(logprobs);
    return std::nullopt;
  }
  bool logprobs = false;
  if (auto e = read_bool(body, "logprobs", logprobs)) return e;
  int64_t top = -1;
  bool top_given = false;
  if (auto e = read_int(body, "top_logprobs", 0, kMaxTopLogprobs, top, &top_given)) return e;
  if (top_given && !logprobs) return fail("top_logprobs", "'top_logprobs' requires 'logprobs' to be true");
  out.top_logprobs = logprobs ? static_cast<int32_t>(top_given ? top : 0) : -1;
  return std::nullopt;
}

Result read_common(ApiEndpoint endpoint, const json& body, ApiRequest& out) {
  if (const json* model = find_field(body, "model")) {
    if (!model->is_string()) return fail("model", "'model' must be a string, got " + type_name(*model));
    out.model = model->get<std::string>();
  }
  if (auto e = read_bool(body, "stream", out.stream)) return e;
  if (const json* options = find_field(body, "stream_options")) {
    if (!options->is_object()) return fail("stream_options", "'stream_options' must be an object");
    if (auto e = read_bool(*options, "include_usage", out.include_usage)) {
      return fail("stream_options.include_usage", e->message);
    }
  }
  if (auto e = read_sampling(body, out)) return e;
  if (auto e = read_stop(body, out.stop)) return e;
  int64_t value = 0;
  bool given = false;
  // Huge values are checked against the context later, where it is known.
  const int64_t kMaxTokensLimit = std::numeric_limits<int64_t>::max();
  if (auto e = read_int(body, "max_tokens", 1, kMaxTokensLimit, value, &given)) return e;
  if (given) out.max_tokens = value;
  if (endpoint == ApiEndpoint::kChatCompletions) {
    given = false;
    if (auto e = read_int(body, "max_completion_tokens", 1, kMaxTokensLimit, value, &given)) return e;
    if (given) out.max_tokens = value;
  }
  value = 1;
  if (auto e = read_int(body, "n", 1, kMaxChoices, value)) return e;
  out.n = static_cast<int32_t>(value);
  value = 0;
  if (auto e = read_int(body, "priority", -1000000, 1000000, value)) return e;
  out.priority = static_cast<int32_t>(value);
  if (auto e = read_bool(body, "ignore_eos", out.ignore_eos)) return e;
  if (auto e = read_bool(body, "speculation", out.speculation)) return e;
  if (const json* user = find_field(body, "user")) {
    if (!user->is_string()) return fail("user", "'user' must be a string, got " + type_name(*user));
    if (user->get<std::string>().size() > kMaxUserLength) {
      return fail("user", "'user' is longer than " + std::to_string(kMaxUserLength) + " bytes");
    }
    out.user = user->get<std::string>();
  }
  if (auto e = read_restricted(endpoint, body, out)) return e;
  return read_logprobs(endpoint, body, out);
}

}  // namespace

std::optional<InvalidField> parse_api_request(ApiEndpoint endpoint, const nlohmann::json& body, ApiRequest& out,
                                              const nlohmann::ordered_json* ordered_body) {
  out = ApiRequest{};
  out.endpoint = endpoint;
  if (!body.is_object()) return fail("", "the request body must be a JSON object");
  if (auto e = check_fields(endpoint, body)) return e;
  if (auto e = read_common(endpoint, body, out)) return e;
  if (body.contains("response_format") || body.contains("tools") || body.contains("tool_choice") ||
      body.contains("parallel_tool_calls")) {
    const nlohmann::ordered_json sorted = ordered_body == nullptr ? nlohmann::ordered_json::parse(body.dump())
                                                                  : nlohmann::ordered_json();
    if (auto e = parse_structured_request(endpoint, ordered_body != nullptr ? *ordered_body : sorted, out.structured)) {
      return e;
    }
  }
  if (endpoint == ApiEndpoint::kChatCompletions) return read_messages(body, out.messages, out.message_tools);
  bool echo = false;
  if (auto e = read_bool(body, "echo", echo)) return e;
  if (echo) return fail("echo", "'echo' is not supported");
  if (auto e = read_prompts(body, out.prompts)) return e;
  if (out.prompts.size() * static_cast<size_t>(out.n) > kMaxEngineRequestsPerCall) {
    return fail("prompt", "too many prompts x n: at most " + std::to_string(kMaxEngineRequestsPerCall) +
                              " completions per request");
  }
  return std::nullopt;
}

}  // namespace frugal
