// The OpenAI endpoints' logic, independent of the HTTP library (server layer): body -> validated
// request -> a model or route resolved by the ModelRouter -> engine requests (or the overflow
// endpoint) -> a full JSON response, an error, or a ReplyStream for SSE.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/llm_engine.h"
#include "metrics/serving_metrics.h"
#include "server/client_link.h"
#include "server/error_mapping.h"
#include "server/model_router.h"
#include "server/openai_schema.h"
#include "server/reply_stream.h"
#include "server/stream_session.h"
#include "trust/moderator.h"

namespace frugal {

// Shared by every handler thread; everything here is read-only or thread-safe.
struct ApiContext {
  const ModelRouter* router = nullptr;           // the served models and routes
  const ServingMetrics* metrics = nullptr;       // may be null
  std::chrono::milliseconds request_timeout{0};  // 0: none
  bool allow_special_in_content = false;         // see PromptModel::allow_special_in_content
  const trust::Moderator* moderator = nullptr;   // set: every prompt is checked first (server/moderation_gate.h)
  // Set (serve --metrics-user): validated requests counted by OpenAI's "user" field in
  // frugal_user_requests_total{user}. Only the listed users get their own label; any other is
  // "other" and none is "none", so clients cannot grow the label set.
  CounterFamily* user_requests = nullptr;
  std::vector<std::string> metrics_users;
};

struct ApiReply {
  int http_status = 200;
  std::string body;                        // JSON: a full response or an OpenAI error
  int retry_after_seconds = 0;             // > 0: send Retry-After
  std::optional<double> cost_usd;          // set: send X-Frugal-Cost-USD (non-streaming responses)
  std::vector<std::pair<std::string, std::string>> headers;  // more response headers (X-Frugal-Route)
  std::shared_ptr<ReplyStream> stream;     // set: answer with text/event-stream from this stream
};

// `client` (may be null) is the caller's connection: when it hangs up, the request's engine work is
// cancelled at once, streaming or not (the reply is then never read).
ApiReply handle_api_request(const ApiContext& context, ApiEndpoint endpoint, const std::string& body,
                            SteadyClock::time_point arrival, ClientLink* client = nullptr);

// GET /v1/models (every served model, then every route; "auto" only when it has a choice to make)
// and /v1/models/{id}.
// GET /v1/models: the language models, the video models (with "frugal_modality": "video") and the
// routes ("owned_by": "frugal-router").
std::string models_list_json(const ModelRouter& router, const std::vector<std::string>& video_models, int64_t created);
std::string video_model_json(const std::string& id, int64_t created);
std::string model_json(const std::string& id, int64_t created, const char* owned_by = "frugal");

// The reply for an ApiError.
ApiReply error_reply(const ApiError& error);

}  // namespace frugal
