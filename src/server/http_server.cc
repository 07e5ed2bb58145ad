#include "server/http_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <fstream>
#include <functional>

#include "core/check.h"
#include "core/logging.h"
#include "server/access_log.h"
#include "server/embeddings_routes.h"
#include "server/error_mapping.h"
#include "server/http_gate.h"
#include "server/llm_audit.h"
#include "server/openai_response.h"
#include "server/openai_routes.h"
#include "server/responses_routes.h"
#include "server/review_routes.h"
#include "server/video_routes.h"
#include "tokenizer/chat_template.h"

namespace frugal {
namespace {

// After the engine has drained, responses still being written get this long to finish.
constexpr std::chrono::milliseconds kFlushGrace{5000};

std::string trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

// Compares without an early exit, so response timing does not reveal how much of a key matched.
bool same_key(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t char_idx = 0; char_idx < a.size(); ++char_idx) {
    diff |= static_cast<unsigned char>(a[char_idx] ^ b[char_idx]);
  }
  return diff == 0;
}

bool is_known_path(const std::string& path) {
  return path == "/v1/completions" || path == "/v1/chat/completions" || path == "/v1/responses" ||
         path == "/v1/embeddings" || path == "/v1/models" ||
         path.rfind("/v1/models/", 0) == 0 || path == "/health" || path == "/metrics" || is_video_route_path(path) ||
         is_review_route_path(path);
}

// The request bodies each POST route parses, by path; empty: not a body route.
std::vector<std::string_view> accepted_media_types(const std::string& path) {
  if (path == "/v1/completions" || path == "/v1/chat/completions" || path == "/v1/responses" || path == "/v1/embeddings") {
    return {"application/json"};
  }
  if (path == "/v1/videos" || (is_video_route_path(path) && path.size() > 6 && path.rfind("/remix") == path.size() - 6)) {
    return {"application/json", "multipart/form-data"};
  }
  if (is_review_route_path(path) && review_route_methods(path) == "POST") return {"application/json"};
  return {};
}

// The media type of a Content-Type value: lower case, without parameters or spaces.
std::string media_type(const std::string& content_type) {
  std::string type = trim(content_type.substr(0, content_type.find(';')));
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

// A POST body of a type the route does not parse: 415, so a text/plain body never reaches a parser.
std::optional<ApiError> media_type_error(const httplib::Request& req) {
  if (req.method != "POST") return std::nullopt;
  const std::vector<std::string_view> accepted = accepted_media_types(req.path);
  if (accepted.empty()) return std::nullopt;
  const std::string type = media_type(req.get_header_value("Content-Type"));
  for (std::string_view candidate : accepted) {
    if (type == candidate) return std::nullopt;
  }
  ApiError error;
  error.http_status = 415;
  error.type = "invalid_request_error";
  error.code = "unsupported_media_type";
  error.message = "Send the request body as " + std::string(accepted.front()) + " ('Content-Type: " +
                  std::string(accepted.front()) + "'" + (accepted.size() > 1 ? " or multipart/form-data" : "") +
                  "); got " + (type.empty() ? std::string("no Content-Type") : "'" + type + "'");
  return error;
}

void send_error(httplib::Response& res, const ApiError& error) {
  res.status = error.http_status;
  if (error.retry_after_seconds > 0) res.set_header("Retry-After", std::to_string(error.retry_after_seconds));
  res.set_content(api_error_body(error), "application/json");
}

// Adapts httplib's DataSink to the session's sink; the audit trail (may be null) sees every byte written.
class HttplibSink final : public SseSink {
 public:
  HttplibSink(httplib::DataSink& sink, LlmAuditTrail* audit) : sink_(sink), audit_(audit) {}
  bool write(std::string_view bytes) override {
    if (sink_.is_writable && !sink_.is_writable()) return false;
    access_note_bytes(bytes.size());
    const bool written = sink_.write(bytes.data(), bytes.size());
    if (written && audit_ != nullptr) audit_->add_bytes(bytes);
    return written;
  }
  void done() override { sink_.done(); }

 private:
  httplib::DataSink& sink_;
  LlmAuditTrail* audit_;
};

// The X-Frugal-Route value of a reply ("" when it has none).
std::string route_header_of(const ApiReply& reply) {
  for (const auto& [name, value] : reply.headers) {
    if (name == ModelRouter::kHeaderName) return value;
  }
  return "";
}

}  // namespace

Expected<std::vector<std::string>> read_api_key_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) return not_found("cannot open API key file " + path);
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(file, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    keys.push_back(line);
  }
  if (keys.empty()) return invalid_argument("API key file " + path + " holds no keys");
  return keys;
}

// cpp-httplib's routing and response writing, fed one request at a time by the gate.
class RoutedServer final : public httplib::Server {
 public:
  // httplib stops writing chunked (streaming) responses once its listening socket is invalid, and
  // it never listens here: it is given a placeholder descriptor that is never listened on.
  RoutedServer() : placeholder_fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) { svr_sock_ = placeholder_fd_; }
  ~RoutedServer() override {
    svr_sock_ = INVALID_SOCKET;
    if (placeholder_fd_ >= 0) ::close(placeholder_fd_);
  }
  RoutedServer(const RoutedServer&) = delete;
  RoutedServer& operator=(const RoutedServer&) = delete;

  bool serve(httplib::Stream& stream, bool close_connection, bool& connection_closed) {
    return process_request(stream, close_connection, connection_closed, nullptr);
  }

 private:
  int placeholder_fd_;
};

struct HttpServer::Impl {
  std::unique_ptr<ModelRouter> router;
  MetricsRegistry* registry = nullptr;
  ServingMetrics metrics;
  HttpServerOptions options;
  ApiContext context;
  jobs::VideoService* video = nullptr;
  int64_t created = 0;
  RoutedServer server;
  std::unique_ptr<HttpGate> gate;  // created by bind()
};

namespace {

// The single-engine server is a router over one model.
std::unique_ptr<ModelRouter> single_model_router(LlmEngine& engine, const Tokenizer& tokenizer,
                                                 const HttpServerOptions& options, MetricsRegistry* metrics) {
  ServedModel model;
  model.name = options.model_name;
  model.engine = &engine;
  model.tokenizer = &tokenizer;
  model.chat_format = detect_chat_format(options.chat_template);
  return std::make_unique<ModelRouter>(std::vector<ServedModel>{model}, std::vector<RouteSpec>{}, /*usd_per_hour=*/0,
                                       nullptr, metrics);
}

}  // namespace

HttpServer::HttpServer(LlmEngine& engine, const Tokenizer& tokenizer, MetricsRegistry* metrics,
                       HttpServerOptions options)
    : HttpServer(single_model_router(engine, tokenizer, options, metrics), metrics, options) {}

HttpServer::HttpServer(std::unique_ptr<ModelRouter> router, MetricsRegistry* metrics, HttpServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  CHECK(router != nullptr, "HttpServer: a router");
  Impl& impl = *impl_;
  impl.router = std::move(router);
  impl.registry = metrics;
  impl.options = std::move(options);
  if (metrics != nullptr) impl.metrics = register_serving_metrics(*metrics);
  impl.context.router = impl.router.get();
  impl.context.metrics = metrics != nullptr ? &impl.metrics : nullptr;
  impl.context.request_timeout = impl.options.request_timeout;
  impl.context.allow_special_in_content = impl.options.allow_special_in_content;
  impl.context.moderator = impl.options.moderator;
  if (metrics != nullptr && !impl.options.metrics_users.empty()) {
    impl.context.user_requests = metrics->counter(
        "frugal_user_requests_total",
        "Validated LLM API requests by OpenAI's user field (listed users; other; none).", {"user"});
    impl.context.metrics_users = impl.options.metrics_users;
  }
  impl.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                     .count();

  install_guards();
  install_routes();
}

// Body limit, and the hooks that run around every route: shutdown, API-key and media-type checks
// before the handler, OpenAI bodies for httplib's own errors, exceptions -> 500. Sockets, deadlines
// and connection caps are the gate's (bind()).
void HttpServer::install_guards() {
  httplib::Server& svr = impl_->server;
  svr.set_payload_max_length(impl_->options.max_body_bytes);
  // What the Keep-Alive response header announces; the gate enforces it.
  svr.set_keep_alive_timeout(std::max<time_t>(1, impl_->options.idle_timeout.count() / 1000));
  svr.set_keep_alive_max_count(HttpGate::kMaxRequestsPerConnection);

  // Shutdown and authentication are decided before the body is read.
  if (impl_->options.access_log != nullptr) install_access_log(svr, *impl_->options.access_log);
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    access_note_begin();
    if (req.path.rfind("/v1/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    if (shutting_down_.load()) {
      send_error(res, shutting_down_error());
      return httplib::Server::HandlerResponse::Handled;
    }
    if (std::optional<ApiError> error = media_type_error(req)) {
      send_error(res, *error);
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string header = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (is_review_path(req.path)) {  // reviewers only: their own key list, never an API key
      if (std::optional<ApiError> error = reviewer_auth_error(header)) {
        send_error(res, *error);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    }
    const auto& keys = impl_->options.api_keys;
    if (keys.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (header.rfind(prefix, 0) != 0) {
      send_error(res, auth_error("Missing API key: send 'Authorization: Bearer <key>'"));
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string key = trim(header.substr(prefix.size()));
    bool accepted = false;
    for (const std::string& candidate : keys) accepted |= same_key(candidate, key);
    if (accepted) return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, auth_error("Incorrect API key provided"));
    return httplib::Server::HandlerResponse::Handled;
  });

  // Errors httplib produces itself (unknown route, 413, unparsable HTTP) get OpenAI bodies too.
  svr.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.content_provider_) return httplib::Server::HandlerResponse::Unhandled;
    int status = res.status;
    if (status == 404 && is_known_path(req.path)) status = 405;
    if (status == 405) res.set_header("Allow", allowed_methods(req.path));
    send_error(res, http_layer_error(status, req.path));
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log_error("http handler threw: " + what);
    send_error(res, api_error_from_status(internal_error("internal server error")));
  });
}

void HttpServer::install_routes() {
  httplib::Server& svr = impl_->server;

  using ApiHandler = std::function<ApiReply(const std::string& body, SteadyClock::time_point arrival)>;
  auto post_with = [this](ApiHandler handle) {
    return [this, handle](const httplib::Request& req, httplib::Response& res) {
      const auto arrival = SteadyClock::now();
      // Counts this response as in flight until its last byte is written (streams outlive the handler).
      in_flight_.fetch_add(1);
      std::shared_ptr<void> in_flight_guard(nullptr, [this](void*) { in_flight_.fetch_sub(1); });
      std::shared_ptr<LlmAuditTrail> audit;  // one record per request when the server keeps an audit log
      if (impl_->options.audit != nullptr) {
        audit = std::make_shared<LlmAuditTrail>(*impl_->options.audit, req.path, req.get_header_value("Authorization"),
                                                req.body, !impl_->options.api_keys.empty());
        res.set_header("X-Request-Id", audit->request_id());
      }
      ApiReply reply = handle(req.body, arrival);
      for (const auto& [name, value] : reply.headers) res.set_header(name, value);
      const std::string route = route_header_of(reply);
      if (!reply.stream) {
        res.status = reply.http_status;
        if (reply.retry_after_seconds > 0) res.set_header("Retry-After", std::to_string(reply.retry_after_seconds));
        if (reply.cost_usd) res.set_header("X-Frugal-Cost-USD", format_cost_usd(*reply.cost_usd));
        res.set_content(reply.body, "application/json");
        if (audit) audit->finish(reply.http_status, reply.body, route);
        return;
      }
      std::shared_ptr<ReplyStream> session = reply.stream;
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Accel-Buffering", "no");
      res.set_chunked_content_provider(
          "text/event-stream",
          [session, in_flight_guard, audit](size_t, httplib::DataSink& sink) {
            HttplibSink adapter(sink, audit.get());
            const bool more = session->pump(adapter);
            if (audit) audit->capture_note();
            return more;
          },
          [session, in_flight_guard, audit, route](bool success) {
            if (!success) session->abandon();
            if (audit) audit->finish_stream(success, route);
          });
    };
  };
  auto post = [this, post_with](ApiEndpoint endpoint) {
    return post_with([this, endpoint](const std::string& body, SteadyClock::time_point arrival) {
      return handle_api_request(impl_->context, endpoint, body, arrival, current_client_link());
    });
  };
  svr.Post("/v1/completions", post(ApiEndpoint::kCompletions));
  svr.Post("/v1/chat/completions", post(ApiEndpoint::kChatCompletions));
  svr.Post("/v1/responses", post_with([this](const std::string& body, SteadyClock::time_point arrival) {
    return handle_responses_request(impl_->context, body, arrival);
  }));
  svr.Post("/v1/embeddings", post_with([this](const std::string& body, SteadyClock::time_point) {
    return handle_embeddings_request(impl_->context, body);
  }));

  svr.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    const std::vector<std::string> video_models = impl_->video != nullptr ? impl_->video->model_names() : std::vector<std::string>{};
    res.set_content(models_list_json(*impl_->router, video_models, impl_->created), "application/json");
  });
  svr.Get(R"(/v1/models/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    const ModelRouter& router = *impl_->router;
    for (const ServedModel& model : router.models()) {
      if (model.name == id) return res.set_content(model_json(id, impl_->created), "application/json");
    }
    for (const RouteSpec& route : router.routes()) {
      if (route.name == id) return res.set_content(model_json(id, impl_->created, "frugal-router"), "application/json");
    }
    if (impl_->video != nullptr) {
      for (const std::string& name : impl_->video->model_names()) {
        if (name == id) return res.set_content(video_model_json(id, impl_->created), "application/json");
      }
    }
    send_error(res, unknown_model_error(id));
  });
  svr.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const bool down = shutting_down_.load();
    res.status = down ? 503 : 200;
    res.set_content(down ? R"({"status":"shutting_down"})" : R"({"status":"ok"})", "application/json");
  });
  svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::string text;
    if (impl_->registry != nullptr) {
      refresh_engine_gauges();
      impl_->router->refresh_gauges();
      if (impl_->video != nullptr) impl_->video->refresh_gauges();
      text = impl_->registry->render();
    }
    res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
  });
}

void HttpServer::attach_video_service(jobs::VideoService& service) {
  impl_->video = &service;
  install_video_routes(impl_->server, service, impl_->options.moderator, !impl_->options.reviewer_keys.empty());
  install_review_routes(impl_->server, service);
}

std::optional<ApiError> HttpServer::reviewer_auth_error(const std::string& authorization) const {
  const std::string prefix = "Bearer ";
  if (impl_->options.reviewer_keys.empty()) {
    return permission_error("Human review is not enabled on this server (start it with --reviewer-key-file)");
  }
  if (authorization.rfind(prefix, 0) != 0) return auth_error("Missing reviewer key: send 'Authorization: Bearer <key>'");
  const std::string key = trim(authorization.substr(prefix.size()));
  bool reviewer = false, api = false;
  for (const std::string& candidate : impl_->options.reviewer_keys) reviewer |= same_key(candidate, key);
  if (reviewer) return std::nullopt;
  for (const std::string& candidate : impl_->options.api_keys) api |= same_key(candidate, key);
  if (api) return permission_error("This API key is not a reviewer key; the review routes need one from --reviewer-key-file");
  return auth_error("Incorrect reviewer key provided");
}

// The request and KV gauges summed over every engine (each engine sets them for itself per step).
void HttpServer::refresh_engine_gauges() {
  EngineSnapshot total;
  for (const ServedModel& model : impl_->router->models()) {
    const EngineSnapshot snap = model.engine->snapshot();
    total.running += snap.running;
    total.waiting += snap.waiting;
    total.kv_blocks_used += snap.kv_blocks_used;
    total.kv_blocks_total += snap.kv_blocks_total;
  }
  impl_->metrics.running->with().set(total.running);
  impl_->metrics.waiting->with().set(total.waiting);
  impl_->metrics.kv_used->with().set(total.kv_blocks_used);
  impl_->metrics.kv_total->with().set(total.kv_blocks_total);
}

std::string HttpServer::allowed_methods(const std::string& path) const {
  if (path == "/v1/completions" || path == "/v1/chat/completions" || path == "/v1/responses" || path == "/v1/embeddings") {
    return "POST";
  }
  if (is_video_route_path(path)) return video_route_methods(path);
  if (is_review_route_path(path)) return review_route_methods(path);
  return "GET, HEAD";  // /v1/models[/id], /health, /metrics
}

HttpServer::~HttpServer() {
  if (impl_->gate) impl_->gate->stop();
  if (background_.joinable()) background_.join();
}

Status HttpServer::bind() {
  const HttpServerOptions& o = impl_->options;
  HttpGateOptions gate;
  gate.host = o.host;
  gate.port = o.port;
  gate.limits.max_body_bytes = o.max_body_bytes;
  gate.header_timeout = o.header_timeout;
  gate.body_timeout = o.body_timeout;
  gate.idle_timeout = o.idle_timeout;
  gate.write_timeout = o.write_timeout;
  gate.max_connections = o.max_connections;
  gate.max_connections_per_address = o.max_connections_per_address;
  gate.num_api_threads = static_cast<size_t>(std::max(1, o.num_http_threads));
  gate.max_json_depth = o.max_json_depth;
  gate.health = [this]() -> std::pair<int, std::string> {
    if (shutting_down_.load()) return {503, R"({"status":"shutting_down"})"};
    return {200, R"({"status":"ok"})"};
  };
  RoutedServer& routed = impl_->server;
  impl_->gate = std::make_unique<HttpGate>(
      gate,
      [&routed](httplib::Stream& stream, bool close_connection, bool& connection_closed) {
        return routed.serve(stream, close_connection, connection_closed);
      },
      impl_->registry);
  Status status = impl_->gate->bind();
  if (!status.is_ok()) return status;
  port_ = impl_->gate->port();
  return Status::ok();
}

Status HttpServer::run() {
  impl_->gate->run();
  return Status::ok();
}

Status HttpServer::start_background() {
  Status status = bind();
  if (!status.is_ok()) return status;
  background_ = std::thread([this] { (void)run(); });
  // Bounded wait until the event loop is up (it accepts from the bound socket either way).
  for (int attempt = 0; attempt < 500 && !impl_->gate->running(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return impl_->gate->running() ? Status::ok() : unavailable("the HTTP listener did not start");
}

void HttpServer::shutdown(std::chrono::milliseconds drain) {
  if (shutting_down_.exchange(true)) return;
  log_info("shutting down: draining in-flight requests");
  // Every engine drains at once, within the same `drain`.
  std::vector<std::thread> drains;
  for (const ServedModel& model : impl_->router->models()) {
    drains.emplace_back([engine = model.engine, drain] { engine->shutdown(drain); });
  }
  for (std::thread& drain_thread : drains) drain_thread.join();
  const auto flush_deadline = SteadyClock::now() + kFlushGrace;
  while (in_flight_.load() > 0 && SteadyClock::now() < flush_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (impl_->gate) impl_->gate->stop();
}

}  // namespace frugal
