// The OpenAI endpoints' logic, independent of the HTTP library (server layer): body -> validated
// request -> engine requests -> a full JSON response, an error, or a StreamSession for SSE.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "engine/llm_engine.h"
#include "metrics/serving_metrics.h"
#include "server/openai_schema.h"
#include "server/error_mapping.h"
#include "server/stream_session.h"
#include "tokenizer/chat_template.h"

namespace frugal {

// Shared by every handler thread; everything here is read-only or thread-safe.
struct ApiContext {
  LlmEngine* engine = nullptr;
  const Tokenizer* tokenizer = nullptr;
  ChatFormat chat_format = ChatFormat::kChatML;
  std::string model_name;
  const ServingMetrics* metrics = nullptr;   // may be null
  std::chrono::milliseconds request_timeout{0};  // 0: none
};

struct ApiReply {
  int http_status = 200;
  std::string body;                        // JSON: a full response or an OpenAI error
  int retry_after_seconds = 0;             // > 0: send Retry-After
  std::shared_ptr<StreamSession> stream;   // set: answer with text/event-stream from this session
};

ApiReply handle_api_request(const ApiContext& context, ApiEndpoint endpoint, const std::string& body,
                            SteadyClock::time_point arrival);

// GET /v1/models and /v1/models/{id}.
std::string models_list_json(const std::string& model_name, int64_t created);
std::string model_json(const std::string& model_name, int64_t created);

// The reply for an ApiError.
ApiReply error_reply(const ApiError& error);

}  // namespace frugal
