#include "server/responses_routes.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string_view>

#include "server/openai_response.h"

namespace frugal {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;  // the chat body: schemas keep the client's property order

ApiReply bad_field(const std::string& param, const std::string& message) {
  return error_reply(invalid_field_error(param, message));
}

std::string random_id(const char* prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char hex[33];
  std::snprintf(hex, sizeof(hex), "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return std::string(prefix) + hex;
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One input item's text: a string, or parts of type input_text / output_text / text.
std::optional<std::string> item_text(const json& content, const std::string& param, std::string& error) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) {
    error = "'" + param + "' must be a string or an array of content parts";
    return std::nullopt;
  }
  std::string text;
  for (size_t idx = 0; idx < content.size(); ++idx) {
    const json& part = content[idx];
    const std::string type = part.is_object() && part.contains("type") && part["type"].is_string()
                                 ? part["type"].get<std::string>() : "";
    if ((type != "input_text" && type != "output_text" && type != "text") || !part.contains("text") ||
        !part["text"].is_string()) {
      error = "'" + param + "[" + std::to_string(idx) + "]': only text parts (input_text, output_text) are supported";
      return std::nullopt;
    }
    text += part["text"].get<std::string>();
  }
  return text;
}

// Fields read (or echoed: metadata) and passed on to the chat request; `tools`,
// `previous_response_id`, `conversation` and `reasoning` only when they ask for nothing.
constexpr std::string_view kResponsesFields[] = {
    "model",  "input", "instructions", "max_output_tokens", "temperature", "top_p", "top_k", "min_p",
    "seed",   "stream", "metadata", "user", "text", "tools", "previous_response_id", "conversation",
    "reasoning"};

// Fields OpenAI defines that frugal accepts only with the value that asks for nothing (or its
// default behaviour): anything else would be silently ignored, so it is a 400 naming the field.
bool asks_for_nothing(const std::string& key, const json& value) {
  if (value.is_null()) return true;
  if (key == "store" || key == "background") return value == false;  // frugal keeps no responses
  if (key == "truncation") return value == "disabled";
  if (key == "parallel_tool_calls") return value.is_boolean();       // no tools are ever offered
  if (key == "tool_choice") return value == "none" || value == "auto";
  if (key == "include") return value.is_array() && value.empty();
  if (key == "stream_options") return value.is_object() && value.empty();
  if (key == "service_tier") return value == "auto" || value == "default";
  if (key == "top_logprobs") return value == 0;
  return false;
}

std::optional<ApiReply> check_fields(const json& body) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(std::begin(kResponsesFields), std::end(kResponsesFields), key) != std::end(kResponsesFields)) continue;
    if (asks_for_nothing(key, value)) continue;
    static constexpr std::string_view kKnown[] = {"store", "background", "truncation", "parallel_tool_calls",
                                                  "tool_choice", "include", "stream_options", "service_tier",
                                                  "top_logprobs"};
    const bool known = std::find(std::begin(kKnown), std::end(kKnown), key) != std::end(kKnown);
    return bad_field(key, known ? "'" + key + "' = " + value.dump() + " is not supported by this server"
                                : "unknown field '" + key + "'");
  }
  return std::nullopt;
}

// Responses' text.format -> chat's response_format (text, json_object, json_schema). `text` comes
// from an order-preserving parse, so the schema's properties are generated in the client's order.
std::optional<ApiReply> map_text_format(const ojson& text, ojson& chat) {
  if (!text.is_object()) return bad_field("text", "'text' must be an object");
  for (const auto& [key, value] : text.items()) {
    if (key != "format" && !(key == "verbosity" && (value.is_null() || value == "medium"))) {
      return bad_field("text." + key, "'text." + key + "' is not supported by this server");
    }
  }
  if (!text.contains("format") || text["format"].is_null()) return std::nullopt;
  const json& format = text["format"];
  if (!format.is_object() || !format.contains("type") || !format["type"].is_string()) {
    return bad_field("text.format", "'text.format' must be an object with a 'type'");
  }
  const std::string type = format["type"];
  if (type == "text") return std::nullopt;
  if (type == "json_object") {
    chat["response_format"] = {{"type", "json_object"}};
    return std::nullopt;
  }
  if (type != "json_schema") {
    return bad_field("text.format.type", "'text.format.type' must be text, json_object or json_schema");
  }
  ojson schema = ojson::object();
  for (const auto& [key, value] : format.items()) {
    if (key != "type") schema[key] = value;  // name, schema, strict, description (checked by chat)
  }
  chat["response_format"] = {{"type", "json_schema"}, {"json_schema", std::move(schema)}};
  return std::nullopt;
}

// The Responses request as a chat completion request; a reply when a field is unusable.
// body_text: the body as sent (text.format is read from it in order).
std::optional<ApiReply> to_chat_body(const json& body, const std::string& body_text, ojson& chat) {
  chat = ojson::object();
  if (std::optional<ApiReply> rejected = check_fields(body)) return rejected;
  if (body.contains("model")) chat["model"] = body["model"];
  if (body.contains("user")) chat["user"] = body["user"];
  if (body.contains("text") && !body["text"].is_null()) {
    const ojson ordered = ojson::parse(body_text, nullptr, /*allow_exceptions=*/false);
    if (std::optional<ApiReply> rejected = map_text_format(ordered["text"], chat)) return rejected;
  }
  for (const char* unsupported : {"tools", "previous_response_id", "conversation", "reasoning"}) {
    if (body.contains(unsupported) && !body[unsupported].is_null() &&
        !(body[unsupported].is_array() && body[unsupported].empty())) {
      return bad_field(unsupported, std::string("'") + unsupported + "' is not supported by this server");
    }
  }
  json messages = json::array();
  if (body.contains("instructions") && !body["instructions"].is_null()) {
    if (!body["instructions"].is_string()) return bad_field("instructions", "'instructions' must be a string");
    messages.push_back({{"role", "system"}, {"content", body["instructions"]}});
  }
  if (!body.contains("input")) return bad_field("input", "'input' is required");
  const json& input = body["input"];
  if (input.is_string()) {
    messages.push_back({{"role", "user"}, {"content", input}});
  } else if (input.is_array()) {
    for (size_t idx = 0; idx < input.size(); ++idx) {
      const std::string param = "input[" + std::to_string(idx) + "]";
      const json& item = input[idx];
      if (!item.is_object() || !item.contains("role") || !item["role"].is_string() || !item.contains("content")) {
        return bad_field(param, "'" + param + "' must be a message: {\"role\", \"content\"}");
      }
      if (item.contains("type") && item["type"] != "message") {
        return bad_field(param, "'" + param + "': only message items are supported");
      }
      std::string error;
      std::optional<std::string> text = item_text(item["content"], param + ".content", error);
      if (!text) return bad_field(param + ".content", error);
      std::string role = item["role"].get<std::string>();
      if (role == "developer") role = "system";
      messages.push_back({{"role", role}, {"content", *text}});
    }
  } else {
    return bad_field("input", "'input' must be a string or an array of messages");
  }
  chat["messages"] = std::move(messages);
  if (body.contains("max_output_tokens") && !body["max_output_tokens"].is_null()) {
    chat["max_tokens"] = body["max_output_tokens"];
  }
  for (const char* key : {"temperature", "top_p", "top_k", "min_p", "seed", "stream"}) {
    if (body.contains(key) && !body[key].is_null()) chat[key] = body[key];
  }
  if (chat.contains("stream") && chat["stream"].is_boolean() && chat["stream"].get<bool>()) {
    chat["stream_options"] = {{"include_usage", true}};
  }
  return std::nullopt;
}

// Fields every Response object carries, whatever its status.
struct ResponseMeta {
  std::string id = random_id("resp_");
  std::string message_id = random_id("msg_");
  int64_t created_at = unix_seconds();
  std::string model;
  json request;  // the client's body: instructions, max_output_tokens, temperature, top_p echo back
};

json output_text_part(const std::string& text) {
  return {{"type", "output_text"}, {"text", text}, {"annotations", json::array()}, {"logprobs", json::array()}};
}

json message_item(const ResponseMeta& meta, const std::string& status, const json& content) {
  return {{"type", "message"}, {"id", meta.message_id}, {"status", status}, {"role", "assistant"}, {"content", content}};
}

// Chat usage -> Responses usage (frugal's cost fields kept).
json responses_usage(const json& chat_usage) {
  if (!chat_usage.is_object()) return nullptr;
  json usage{{"input_tokens", chat_usage.value("prompt_tokens", 0)},
             {"input_tokens_details", {{"cached_tokens", chat_usage.value(json::json_pointer("/prompt_tokens_details/cached_tokens"), 0)}}},
             {"output_tokens", chat_usage.value("completion_tokens", 0)},
             {"output_tokens_details", {{"reasoning_tokens", 0}}},
             {"total_tokens", chat_usage.value("total_tokens", 0)}};
  for (const char* key : {"compute_seconds", "cost_usd", "price_source"}) {
    if (chat_usage.contains(key)) usage[key] = chat_usage[key];
  }
  return usage;
}

// status: "in_progress", "completed", "incomplete" or "failed".
json response_json(const ResponseMeta& meta, const std::string& status, const json& output, const json& usage,
                   const json& error = nullptr) {
  const json& req = meta.request;
  auto echo = [&req](const char* key, json fallback) { return req.contains(key) ? req[key] : fallback; };
  return {{"id", meta.id},
          {"object", "response"},
          {"created_at", meta.created_at},
          {"status", status},
          {"model", meta.model},
          {"output", output},
          {"usage", usage},
          {"error", error},
          {"incomplete_details", status == "incomplete" ? json{{"reason", "max_output_tokens"}} : json(nullptr)},
          {"instructions", echo("instructions", nullptr)},
          {"max_output_tokens", echo("max_output_tokens", nullptr)},
          {"temperature", echo("temperature", nullptr)},
          {"top_p", echo("top_p", nullptr)},
          {"parallel_tool_calls", false},
          {"tool_choice", "auto"},
          {"tools", json::array()},
          {"text", echo("text", {{"format", {{"type", "text"}}}})},
          {"metadata", echo("metadata", json::object())},
          {"store", false}};
}

// The model a routed request ran on, from "X-Frugal-Route: route=...; model=NAME; ...".
std::string routed_model(const ApiReply& reply, const std::string& fallback) {
  for (const auto& [name, value] : reply.headers) {
    if (name != ModelRouter::kHeaderName) continue;
    const size_t at = value.find("model=");
    if (at == std::string::npos) break;
    const size_t end = value.find(';', at);
    return value.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6);
  }
  return fallback;
}

// The chat stream's SSE, re-emitted as Responses events.
class ResponsesStream final : public ReplyStream {
 public:
  ResponsesStream(std::shared_ptr<ReplyStream> inner, ResponseMeta meta) : inner_(std::move(inner)), meta_(std::move(meta)) {}

  bool pump(SseSink& sink) override {
    if (ended_) return true;
    if (!started_) {
      started_ = true;
      const json empty_response = response_json(meta_, "in_progress", json::array(), nullptr);
      return emit(sink, "response.created", {{"response", empty_response}}) &&
             emit(sink, "response.in_progress", {{"response", empty_response}}) &&
             emit(sink, "response.output_item.added",
                  {{"output_index", 0}, {"item", message_item(meta_, "in_progress", json::array())}}) &&
             emit(sink, "response.content_part.added", part_fields({{"part", output_text_part("")}}));
    }
    Translator translator(*this, sink);
    if (!inner_->pump(translator)) return false;
    return translator.ok;
  }
  void abandon() override { inner_->abandon(); }

 private:
  // An SseSink that parses the chat stream's events and writes Responses events to `out`.
  struct Translator final : SseSink {
    Translator(ResponsesStream& stream, SseSink& out) : stream(stream), out(out) {}
    bool write(std::string_view bytes) override {
      stream.pending_.append(bytes);
      size_t end;
      while (ok && (end = stream.pending_.find("\n\n")) != std::string::npos) {
        const std::string event = stream.pending_.substr(0, end);
        stream.pending_.erase(0, end + 2);
        ok = stream.on_chat_event(out, event);
      }
      return ok;
    }
    void done() override {
      if (!stream.ended_) ok = stream.finish(out, stream.failed_ ? "failed" : nullptr) && ok;
    }
    ResponsesStream& stream;
    SseSink& out;
    bool ok = true;
  };

  json part_fields(json extra) const {
    json fields{{"item_id", meta_.message_id}, {"output_index", 0}, {"content_index", 0}};
    fields.update(extra);
    return fields;
  }

  bool emit(SseSink& sink, const std::string& type, json fields) {
    fields["type"] = type;
    fields["sequence_number"] = sequence_++;
    return sink.write("event: " + type + "\ndata: " + dump_json(fields) + "\n\n");
  }

  // One chat SSE event ("data: {...}", "data: [DONE]" or a ": comment").
  bool on_chat_event(SseSink& sink, const std::string& event) {
    if (event.rfind(":", 0) == 0) return sink.write(event + "\n\n");  // keep-alive probe
    if (event.rfind("data: ", 0) != 0) return true;
    const std::string data = event.substr(6);
    if (data == "[DONE]") return true;  // finish() runs at done()
    const json chunk = json::parse(data, nullptr, /*allow_exceptions=*/false);
    if (chunk.is_discarded()) return true;
    if (chunk.contains("error")) {
      failed_ = true;
      const json& e = chunk["error"];
      error_ = {{"code", e.is_object() && e.contains("code") ? e["code"] : json("server_error")},
                {"message", e.is_object() && e.contains("message") ? e["message"] : json("the generation failed")}};
      return emit(sink, "error", {{"code", error_["code"]}, {"message", error_["message"]}, {"param", nullptr}});
    }
    if (chunk.contains("usage") && chunk["usage"].is_object()) usage_ = responses_usage(chunk["usage"]);
    if (!chunk.contains("choices") || !chunk["choices"].is_array() || chunk["choices"].empty()) return true;
    const json& choice = chunk["choices"][0];
    if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) {
      finish_reason_ = choice["finish_reason"].get<std::string>();
    }
    const json* content = choice.contains("delta") && choice["delta"].is_object() && choice["delta"].contains("content")
                              ? &choice["delta"]["content"] : nullptr;
    if (content == nullptr || !content->is_string() || content->get<std::string>().empty()) return true;
    const std::string delta = content->get<std::string>();
    text_ += delta;
    return emit(sink, "response.output_text.delta", part_fields({{"delta", delta}, {"logprobs", json::array()}}));
  }

  // The closing events; status_override "failed" after an error event.
  bool finish(SseSink& sink, const char* status_override) {
    ended_ = true;
    bool ok = true;
    if (status_override != nullptr) {
      ok = emit(sink, "response.failed", {{"response", response_json(meta_, "failed", json::array(), usage_, error_)}});
    } else {
      const std::string status = finish_reason_ == "length" ? "incomplete" : "completed";
      const json part = output_text_part(text_);
      const json item = message_item(meta_, status, json::array({part}));
      ok = emit(sink, "response.output_text.done", part_fields({{"text", text_}, {"logprobs", json::array()}})) &&
           emit(sink, "response.content_part.done", part_fields({{"part", part}})) &&
           emit(sink, "response.output_item.done", {{"output_index", 0}, {"item", item}}) &&
           emit(sink, status == "completed" ? "response.completed" : "response.incomplete",
                {{"response", response_json(meta_, status, json::array({item}), usage_)}});
    }
    sink.done();
    return ok;
  }

  std::shared_ptr<ReplyStream> inner_;
  ResponseMeta meta_;
  bool started_ = false;
  bool ended_ = false;
  bool failed_ = false;
  int64_t sequence_ = 0;
  std::string pending_;  // chat SSE bytes not yet split into events
  std::string text_;
  std::string finish_reason_;
  json usage_ = nullptr;
  json error_ = nullptr;
};

}  // namespace

ApiReply handle_responses_request(const ApiContext& context, const std::string& body_text,
                                  SteadyClock::time_point arrival) {
  const json body = json::parse(body_text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) return bad_field("", "the request body is not a JSON object");
  ojson chat;
  if (std::optional<ApiReply> rejected = to_chat_body(body, body_text, chat)) return *rejected;
  ApiReply reply = handle_api_request(context, ApiEndpoint::kChatCompletions,
                                      chat.dump(-1, ' ', false, ojson::error_handler_t::replace), arrival);
  if (reply.http_status != 200) {  // an OpenAI error body already; name the Responses field
    json error = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
    if (!error.is_discarded() && error.contains("error") && error["error"].value("param", json()) == "max_tokens") {
      error["error"]["param"] = "max_output_tokens";
      reply.body = dump_json(error);
    }
    if (!error.is_discarded() && error.contains("error") && error["error"].value("param", json()) == "messages") {
      error["error"]["param"] = "input";  // the chat messages were made from input (and instructions)
      reply.body = dump_json(error);
    }
    // response_format.json_schema[.x] was made from text.format (schema errors name text.format.schema).
    const std::string prefix = "response_format.json_schema";
    if (!error.is_discarded() && error.contains("error") && error["error"].value("param", json()).is_string()) {
      const std::string param = error["error"]["param"];
      if (param.starts_with(prefix)) {
        error["error"]["param"] = "text.format" + param.substr(prefix.size());
        reply.body = dump_json(error);
      }
    }
    return reply;
  }
  ResponseMeta meta;
  meta.model = routed_model(reply, body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : "");
  meta.request = body;
  if (reply.stream) {
    reply.stream = std::make_shared<ResponsesStream>(std::move(reply.stream), std::move(meta));
    return reply;
  }
  const json completion = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (completion.is_discarded() || !completion.contains("choices") || completion["choices"].empty()) {
    return error_reply(api_error_from_status(internal_error("the chat answer could not be read")));
  }
  const json& choice = completion["choices"][0];
  const json message = choice.value("message", json::object());
  const std::string text =
      message.contains("content") && message["content"].is_string() ? message["content"].get<std::string>() : "";
  const std::string status =
      choice.contains("finish_reason") && choice["finish_reason"] == "length" ? "incomplete" : "completed";
  if (completion.contains("model") && completion["model"].is_string()) meta.model = completion["model"];
  const json item = message_item(meta, status, json::array({output_text_part(text)}));
  reply.body = dump_json(response_json(meta, status, json::array({item}), responses_usage(completion.value("usage", json()))));
  return reply;
}

}  // namespace frugal
