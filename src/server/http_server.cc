#include "server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>

#include "core/check.h"
#include "core/logging.h"
#include "server/access_log.h"
#include "server/embeddings_routes.h"
#include "server/error_mapping.h"
#include "server/openai_response.h"
#include "server/openai_routes.h"
#include "server/responses_routes.h"
#include "server/video_routes.h"
#include "tokenizer/chat_template.h"

namespace frugal {
namespace {

// After the engine has drained, responses still being written get this long to finish.
constexpr std::chrono::milliseconds kFlushGrace{5000};

// The listener's accept queue (the kernel caps it at net.core.somaxconn). Debian's libcpp-httplib is
// compiled with a backlog of 5: a burst of clients (64 streams opening at once while the engine
// keeps every core busy) overflowed it, Linux dropped the handshakes it could not queue, and a
// client whose half-open connection was given up had its request answered with a reset.
constexpr int kListenBacklog = 1024;

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
         path.rfind("/v1/models/", 0) == 0 || path == "/health" || path == "/metrics" || is_video_route_path(path);
}

void send_error(httplib::Response& res, const ApiError& error) {
  res.status = error.http_status;
  if (error.retry_after_seconds > 0) res.set_header("Retry-After", std::to_string(error.retry_after_seconds));
  res.set_content(api_error_body(error), "application/json");
}

// Adapts httplib's DataSink to the session's sink.
class HttplibSink final : public SseSink {
 public:
  explicit HttplibSink(httplib::DataSink& sink) : sink_(sink) {}
  bool write(std::string_view bytes) override {
    if (sink_.is_writable && !sink_.is_writable()) return false;
    access_note_bytes(bytes.size());
    return sink_.write(bytes.data(), bytes.size());
  }
  void done() override { sink_.done(); }

 private:
  httplib::DataSink& sink_;
};

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

struct HttpServer::Impl {
  std::unique_ptr<ModelRouter> router;
  MetricsRegistry* registry = nullptr;
  ServingMetrics metrics;
  HttpServerOptions options;
  ApiContext context;
  jobs::VideoService* video = nullptr;
  int64_t created = 0;
  std::atomic<int> listen_fd{-1};  // the socket httplib last created to listen on (see bind())
  httplib::Server server;
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
  impl.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                     .count();

  install_guards();
  install_routes();
}

// Thread pool, body limit, and the hooks that run around every route: shutdown and API-key checks
// before the body is read, OpenAI bodies for httplib's own errors, exceptions -> 500.
void HttpServer::install_guards() {
  httplib::Server& svr = impl_->server;
  const int num_threads = std::max(2, impl_->options.num_http_threads);
  svr.new_task_queue = [num_threads] { return new httplib::ThreadPool(static_cast<size_t>(num_threads)); };
  svr.set_payload_max_length(impl_->options.max_body_bytes);
  svr.set_socket_options([this](socket_t sock) {
    httplib::default_socket_options(sock);
    impl_->listen_fd.store(sock);
  });

  // Shutdown and authentication are decided before the body is read.
  if (impl_->options.access_log != nullptr) install_access_log(svr, *impl_->options.access_log);
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    access_note_begin();
    if (req.path.rfind("/v1/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    if (shutting_down_.load()) {
      send_error(res, shutting_down_error());
      return httplib::Server::HandlerResponse::Handled;
    }
    const auto& keys = impl_->options.api_keys;
    if (keys.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string header = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
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
  svr.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.content_provider_) return httplib::Server::HandlerResponse::Unhandled;
    int status = res.status;
    if (status == 404 && is_known_path(req.path)) status = 405;
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
      ApiReply reply = handle(req.body, arrival);
      for (const auto& [name, value] : reply.headers) res.set_header(name, value);
      if (!reply.stream) {
        res.status = reply.http_status;
        if (reply.retry_after_seconds > 0) res.set_header("Retry-After", std::to_string(reply.retry_after_seconds));
        if (reply.cost_usd) res.set_header("X-Frugal-Cost-USD", format_cost_usd(*reply.cost_usd));
        res.set_content(reply.body, "application/json");
        return;
      }
      std::shared_ptr<ReplyStream> session = reply.stream;
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Accel-Buffering", "no");
      res.set_chunked_content_provider(
          "text/event-stream",
          [session, in_flight_guard](size_t, httplib::DataSink& sink) {
            HttplibSink adapter(sink);
            return session->pump(adapter);
          },
          [session, in_flight_guard](bool success) {
            if (!success) session->abandon();
          });
    };
  };
  auto post = [this, post_with](ApiEndpoint endpoint) {
    return post_with([this, endpoint](const std::string& body, SteadyClock::time_point arrival) {
      return handle_api_request(impl_->context, endpoint, body, arrival);
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
  install_video_routes(impl_->server, service);
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

HttpServer::~HttpServer() {
  impl_->server.stop();
  if (background_.joinable()) background_.join();
}

Status HttpServer::bind() {
  const std::string& host = impl_->options.host;
  const std::string where = host + ":" + std::to_string(impl_->options.port);
  if (impl_->options.port == 0) {
    port_ = impl_->server.bind_to_any_port(host);
  } else if (impl_->server.bind_to_port(host, impl_->options.port)) {
    port_ = impl_->options.port;
  }
  if (port_ <= 0) return unavailable("cannot listen on " + where + " (address in use or not available)");
  // listen() again on the listening socket only deepens its accept queue (see kListenBacklog).
  if (::listen(impl_->listen_fd.load(), kListenBacklog) != 0) {
    return unavailable("cannot set the accept queue of " + where + ": " + std::strerror(errno));
  }
  return Status::ok();
}

Status HttpServer::run() {
  if (!impl_->server.listen_after_bind()) return unavailable("the HTTP listener stopped with an error");
  return Status::ok();
}

Status HttpServer::start_background() {
  Status status = bind();
  if (!status.is_ok()) return status;
  background_ = std::thread([this] { (void)run(); });
  // Bounded wait until the accept loop is up, so a test's first request is not refused.
  for (int attempt = 0; attempt < 500 && !impl_->server.is_running(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return impl_->server.is_running() ? Status::ok() : unavailable("the HTTP listener did not start");
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
  impl_->server.stop();
}

}  // namespace frugal
