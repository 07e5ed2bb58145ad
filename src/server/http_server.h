// The HTTP front end (server layer): an HttpGate (server/http_gate.h: sockets, deadlines, connection
// caps, request framing and limits, /health and /metrics on their own threads, hang-up detection)
// in front of cpp-httplib's routing for the OpenAI API, /health and /metrics; API keys, media types,
// body-size and time limits, and graceful shutdown. Design: docs/design/http-front-end.md.
//
// Routes: POST /v1/completions, POST /v1/chat/completions (stream: true -> SSE), POST /v1/responses
// (server/responses_routes.h), POST /v1/embeddings (server/embeddings_routes.h), GET /v1/models,
// GET /v1/models/{id} (language and video models), the Videos API when a video service is attached, GET /health, GET /metrics (Prometheus text; see metrics/serving_metrics.h
// and server/route_metrics.h for every metric name and who updates it). Several models can be
// served, each with its own engine; a ModelRouter resolves "model" (a name, "auto", a route); with
// none (video only) the LLM routes answer 404 model_not_found.
// API keys guard /v1/* only; /health and /metrics stay open for probes and scrapers.
// Threading contract: start()/run() on one thread; shutdown() from any thread (e.g. a signal
// waiter), once. Handlers run on the gate's lane threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/expected.h"
#include "engine/llm_engine.h"
#include "jobs/video_service.h"
#include "metrics/serving_metrics.h"
#include "server/access_log.h"
#include "server/error_mapping.h"
#include "server/model_router.h"
#include "tokenizer/tokenizer.h"
#include "trust/audit_sink.h"
#include "trust/moderator.h"

namespace frugal {

struct HttpServerOptions {
  std::string host = "127.0.0.1";        // loopback unless the operator asks otherwise
  int port = 8080;                       // 0: an ephemeral port (see port())
  std::string model_name = "frugal";     // single-engine constructor: the id clients send as "model"
  std::string chat_template;             // single-engine constructor: tokenizer.chat_template ("" -> ChatML)
  std::vector<std::string> api_keys;     // empty: no authentication
  // The only keys admitted under /v1/review/ (server/review_routes.h); empty: those routes are 403.
  std::vector<std::string> reviewer_keys;
  size_t max_body_bytes = 1 << 20;       // larger bodies -> 413 (Content-Length or chunked)
  std::chrono::milliseconds request_timeout{std::chrono::minutes(10)};  // 0: none
  int num_http_threads = 32;             // API requests served at once (each stream holds one)
  // Per-client bounds (see HttpGateOptions): deadlines for a request's head and body, for an idle
  // kept-alive connection and for a stalled response write; connection caps (beyond: probes only).
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{5'000};
  std::chrono::milliseconds write_timeout{30'000};
  size_t max_connections = 2048;
  size_t max_connections_per_address = 256;
  size_t max_json_depth = 128;           // application/json bodies nesting deeper -> 400
  bool allow_special_in_content = false; // chat content may hold control tokens (trusted callers only)
  // Non-empty (and metrics set): LLM requests counted per "user" in frugal_user_requests_total{user};
  // users not listed here count as "other" (server/openai_routes.h, ApiContext::user_requests).
  std::vector<std::string> metrics_users;
  AccessLog* access_log = nullptr;       // set: one JSON line per request (server/access_log.h); outlives the server
  trust::AuditSink* audit = nullptr;     // set: one audit record per LLM API request (server/llm_audit.h); outlives it
  // set: every prompt of the LLM and video routes is moderated before it reaches a model
  // (server/moderation_gate.h); outlives the server.
  const trust::Moderator* moderator = nullptr;
};

// Reads --api-key-file: one key per line; blank lines and '#' comments are skipped.
Expected<std::vector<std::string>> read_api_key_file(const std::string& path);

class HttpServer {
 public:
  // One model: engine, tokenizer and metrics (may be null) must outlive the server.
  HttpServer(LlmEngine& engine, const Tokenizer& tokenizer, MetricsRegistry* metrics, HttpServerOptions options);
  // Several models and routes: the router's engines and tokenizers, and metrics (may be null; the
  // router registered its families there), must outlive the server.
  HttpServer(std::unique_ptr<ModelRouter> router, MetricsRegistry* metrics, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves the OpenAI Videos API (server/video_routes.h) from `service`, which must outlive the
  // server; its queue gauges are refreshed at each /metrics scrape; the reviewer routes
  // (server/review_routes.h) come with it. Call before bind().
  void attach_video_service(jobs::VideoService& service);

  // Binds the socket; errors: kUnavailable (address in use, bad host).
  Status bind();
  int port() const { return port_; }
  // Serves until shutdown(); call after bind().
  Status run();
  // bind() + run() on a background thread (tests).
  Status start_background();

  // Graceful shutdown: new API requests get 503 at once, the engines drain for up to `drain`
  // (then fails the rest with an error event), in-flight responses finish, the listener closes.
  void shutdown(std::chrono::milliseconds drain);
  bool shutting_down() const { return shutting_down_.load(); }
  int64_t in_flight() const { return in_flight_.load(); }

 private:
  void install_guards();
  void install_routes();
  std::string allowed_methods(const std::string& path) const;
  // nullopt when `authorization` carries a reviewer key; else 401 (none, unknown) or 403 (an API
  // key, or review not enabled).
  std::optional<ApiError> reviewer_auth_error(const std::string& authorization) const;
  void refresh_engine_gauges();

  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::atomic<bool> shutting_down_{false};
  std::atomic<int64_t> in_flight_{0};
  std::thread background_;
};

}  // namespace frugal
