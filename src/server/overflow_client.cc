#include "server/overflow_client.h"

#include <httplib.h>

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "server/error_mapping.h"
#include "server/openai_response.h"

namespace frugal {
namespace {

using json = nlohmann::json;

// How long the handler waits for the upstream's status line before answering 502.
constexpr std::chrono::seconds kStatusWait{30};
// Longest wait for upstream bytes per pump (the HTTP layer then calls pump again).
constexpr std::chrono::milliseconds kPumpPoll{100};

const char* endpoint_path(ApiEndpoint endpoint) {
  return endpoint == ApiEndpoint::kChatCompletions ? "/v1/chat/completions" : "/v1/completions";
}

OverflowReply upstream_error(const std::string& message) {
  ApiError error;
  error.http_status = 502;
  error.type = "api_error";
  error.code = "overflow_upstream_error";
  error.message = "overflow endpoint: " + message;
  return OverflowReply{.http_status = 502, .body = api_error_body(error), .stream = nullptr};
}

httplib::Headers upstream_headers(const OverflowOptions& options) {
  httplib::Headers headers;
  if (!options.api_key.empty()) headers.emplace("Authorization", "Bearer " + options.api_key);
  return headers;
}

std::unique_ptr<httplib::Client> make_client(const std::string& scheme_host_port, std::chrono::seconds timeout) {
  auto client = std::make_unique<httplib::Client>(scheme_host_port);
  client->set_connection_timeout(std::min<time_t>(timeout.count(), 10), 0);
  client->set_read_timeout(timeout.count(), 0);
  client->set_write_timeout(timeout.count(), 0);
  return client;
}

// The upstream side of a stream: filled by the upstream thread, drained by pump().
struct UpstreamState {
  std::mutex mutex;
  std::condition_variable changed;
  int http_status = 0;      // 0 until the status line arrived
  std::string pending;      // received, not yet processed bytes
  bool finished = false;    // the upstream request ended (completely or not)
  bool failed = false;      // ... with a transport error
  std::string error;
  bool cancelled = false;   // the client is gone
};

// Joins a finished upstream thread; detaches one still blocked in a read (it owns copies of all it
// touches and stops at its next byte or its read time-out), so a stalled upstream cannot hold an
// HTTP thread.
void release_worker(std::thread& worker, UpstreamState& state) {
  if (!worker.joinable()) return;
  bool finished = false;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    finished = state.finished;
  }
  if (finished) {
    worker.join();
  } else {
    worker.detach();
  }
}

class OverflowStream final : public ReplyStream {
 public:
  OverflowStream(std::shared_ptr<UpstreamState> state, std::thread worker, const OverflowClient& client,
                 bool client_wants_usage, OverflowClient::UsageCallback on_usage)
      : state_(std::move(state)), worker_(std::move(worker)), client_(client),
        client_wants_usage_(client_wants_usage), on_usage_(std::move(on_usage)) {}
  ~OverflowStream() override {
    abandon();
    release_worker(worker_, *state_);
  }

  bool pump(SseSink& sink) override {
    std::string ready;
    bool finished = false, failed = false;
    std::string error;
    {
      std::unique_lock<std::mutex> lock(state_->mutex);
      state_->changed.wait_for(lock, kPumpPoll, [&] { return !state_->pending.empty() || state_->finished; });
      const size_t end = state_->pending.rfind("\n\n");
      if (end != std::string::npos) {
        ready = state_->pending.substr(0, end + 2);
        state_->pending.erase(0, end + 2);
      }
      finished = state_->finished;
      failed = state_->failed;
      error = state_->error;
    }
    if (!write_events(sink, ready)) return false;
    if (!finished) return true;
    if (failed) {
      const std::string event = "data: " + api_error_body(upstream_error_api(error)) + "\n\n";
      if (!sink.write(event)) return false;
    }
    sink.done();
    return true;
  }

  void abandon() override {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->cancelled = true;
  }

 private:
  static ApiError upstream_error_api(const std::string& message) {
    return ApiError{.http_status = 502, .type = "api_error", .message = "overflow endpoint: " + message,
                    .param = "", .code = "overflow_upstream_error", .retry_after_seconds = 0, .category = ""};
  }

  // Passes complete SSE events through, pricing the usage chunk.
  bool write_events(SseSink& sink, const std::string& events) {
    size_t pos = 0;
    while (pos < events.size()) {
      const size_t end = events.find("\n\n", pos);
      std::string event = events.substr(pos, end - pos);
      pos = end + 2;
      if (event.rfind("data: {", 0) == 0) {
        json chunk = json::parse(event.substr(6), nullptr, /*allow_exceptions=*/false);
        if (!chunk.is_discarded() && chunk.contains("usage") && chunk["usage"].is_object()) {
          if (std::optional<Usage> usage = price_usage(chunk, client_)) on_usage_(*usage);
          const bool usage_only = chunk.contains("choices") && chunk["choices"].empty();
          if (usage_only && !client_wants_usage_) continue;
          event = "data: " + dump_json(chunk);
        }
      }
      if (!sink.write(event + "\n\n")) {
        abandon();
        return false;
      }
    }
    return true;
  }

  std::shared_ptr<UpstreamState> state_;
  std::thread worker_;
  const OverflowClient& client_;
  bool client_wants_usage_;
  OverflowClient::UsageCallback on_usage_;
};

// Runs the upstream request on its own thread, feeding `state`.
std::thread start_upstream(std::shared_ptr<UpstreamState> state, std::string scheme_host_port, OverflowOptions options,
                           std::string path, std::string body) {
  return std::thread([state, scheme_host_port = std::move(scheme_host_port), options = std::move(options),
                      path = std::move(path), body = std::move(body)] {
    auto client = make_client(scheme_host_port, options.timeout);
    httplib::Request req;
    req.method = "POST";
    req.path = path;
    req.headers = upstream_headers(options);
    req.headers.emplace("Content-Type", "application/json");
    req.headers.emplace("Accept", "text/event-stream");
    req.body = body;
    req.response_handler = [state](const httplib::Response& res) {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->http_status = res.status;
      state->changed.notify_all();
      return !state->cancelled;
    };
    req.content_receiver = [state](const char* data, size_t size, uint64_t, uint64_t) {
      std::lock_guard<std::mutex> lock(state->mutex);
      if (state->cancelled) return false;
      state->pending.append(data, size);
      state->changed.notify_all();
      return true;
    };
    const httplib::Result result = client->send(req);
    std::lock_guard<std::mutex> lock(state->mutex);
    state->finished = true;
    if (!result && !state->cancelled) {
      state->failed = true;
      state->error = httplib::to_string(result.error());
    }
    state->changed.notify_all();
  });
}

}  // namespace

Expected<std::unique_ptr<OverflowClient>> OverflowClient::create(OverflowOptions options) {
  const std::string scheme = "http://";
  if (options.url.rfind(scheme, 0) != 0) {
    return invalid_argument("--overflow-url must start with http:// (got '" + options.url + "')");
  }
  std::string host_port = options.url.substr(scheme.size());
  while (!host_port.empty() && host_port.back() == '/') host_port.pop_back();
  if (host_port.size() >= 3 && host_port.compare(host_port.size() - 3, 3, "/v1") == 0) host_port.resize(host_port.size() - 3);
  if (host_port.empty() || host_port.find('/') != std::string::npos) {
    return invalid_argument("--overflow-url must be http://HOST[:PORT][/v1] (got '" + options.url + "')");
  }
  if (options.model.empty()) return invalid_argument("--overflow-model is required with --overflow-url");
  if (options.queue_threshold < 1) return invalid_argument("--overflow-queue-threshold must be >= 1");
  const double in = options.usd_per_million_input_tokens, out = options.usd_per_million_output_tokens;
  if (!(in >= 0 && std::isfinite(in)) || !(out >= 0 && std::isfinite(out))) {
    return invalid_argument("overflow prices must be finite and >= 0 USD per million tokens");
  }
  return std::unique_ptr<OverflowClient>(new OverflowClient(std::move(options), scheme + host_port));
}

double OverflowClient::cost_usd(int64_t prompt_tokens, int64_t completion_tokens) const {
  return (static_cast<double>(prompt_tokens) * options_.usd_per_million_input_tokens +
          static_cast<double>(completion_tokens) * options_.usd_per_million_output_tokens) / 1e6;
}

std::optional<Usage> price_usage(json& response, const OverflowClient& client) {
  if (!response.contains("usage") || !response["usage"].is_object()) return std::nullopt;
  json& usage_object = response["usage"];
  Usage usage;
  usage.prompt_tokens = usage_object.value("prompt_tokens", int64_t{0});
  usage.completion_tokens = usage_object.value("completion_tokens", int64_t{0});
  usage.cost_usd = client.cost_usd(usage.prompt_tokens, usage.completion_tokens);
  usage_object["cost_usd"] = usage.cost_usd;
  return usage;
}

OverflowReply OverflowClient::forward(ApiEndpoint endpoint, json body, UsageCallback on_usage) const {
  body["model"] = options_.model;
  const bool stream = body.value("stream", false);
  if (stream) return forward_stream(endpoint_path(endpoint), std::move(body), on_usage);
  return forward_full(endpoint_path(endpoint), body, on_usage);
}

OverflowReply OverflowClient::forward_full(const std::string& path, const json& body,
                                           const UsageCallback& on_usage) const {
  auto client = make_client(scheme_host_port_, options_.timeout);
  const httplib::Result res = client->Post(path.c_str(), upstream_headers(options_), body.dump(), "application/json");
  if (!res) return upstream_error("unreachable (" + httplib::to_string(res.error()) + ")");
  if (res->status >= 500) return upstream_error("answered HTTP " + std::to_string(res->status));
  if (res->status != 200) return OverflowReply{.http_status = res->status, .body = res->body, .stream = nullptr};
  json response = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (response.is_discarded()) return upstream_error("answered a body that is not JSON");
  const std::optional<Usage> usage = price_usage(response, *this);
  if (!usage) return upstream_error("answered without usage, so its cost is unknown");
  on_usage(*usage);
  return OverflowReply{.http_status = 200, .body = dump_json(response), .stream = nullptr};
}

OverflowReply OverflowClient::forward_stream(const std::string& path, json body, const UsageCallback& on_usage) const {
  const bool client_wants_usage = body.contains("stream_options") && body["stream_options"].is_object() &&
                                  body["stream_options"].value("include_usage", false);
  body["stream_options"]["include_usage"] = true;  // the cost needs the usage
  auto state = std::make_shared<UpstreamState>();
  std::thread worker = start_upstream(state, scheme_host_port_, options_, path, body.dump());
  int status = 0;
  std::string error_text;
  {
    std::unique_lock<std::mutex> lock(state->mutex);
    state->changed.wait_for(lock, kStatusWait, [&] { return state->http_status != 0 || state->finished; });
    status = state->http_status;
    if (status == 0) state->cancelled = true;
  }
  if (status == 200) {
    return OverflowReply{.http_status = 200, .body = "",
                         .stream = std::make_shared<OverflowStream>(state, std::move(worker), *this, client_wants_usage,
                                                                    on_usage)};
  }
  if (status != 0) worker.join();  // the error body is complete once the request ends
  release_worker(worker, *state);
  std::lock_guard<std::mutex> lock(state->mutex);
  if (status == 0) return upstream_error("unreachable (" + (state->error.empty() ? "no answer" : state->error) + ")");
  if (status >= 500) return upstream_error("answered HTTP " + std::to_string(status));
  return OverflowReply{.http_status = status, .body = state->pending, .stream = nullptr};
}

}  // namespace frugal
