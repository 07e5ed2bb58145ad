// The overflow route (server layer): forwards a request to an external OpenAI-compatible endpoint
// (another frugal, a hosted API) when the local queue is long, and prices the answer from the
// upstream usage at the configured $/Mtoken, so the cost meter stays right. Non-streaming bodies
// are returned with usage.cost_usd added; SSE streams are passed through event by event, with the
// usage chunk priced (the upstream is always asked for it; it is dropped again when the client did
// not ask). Upstream unreachable or a 5xx -> 502 (OpenAI error body, code "overflow_upstream_error");
// an upstream 4xx is passed through (it is about the request).
// Only http:// URLs (cpp-httplib is built without TLS here): put a TLS proxy in front for https.
// Threading contract: forward() is thread-safe (each call has its own connection).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/expected.h"
#include "engine/request.h"
#include "server/openai_schema.h"
#include "server/reply_stream.h"

namespace frugal {

struct OverflowOptions {
  std::string url;                             // "http://host:port" (a trailing "/v1" is accepted)
  std::string model;                           // the "model" sent upstream
  int32_t queue_threshold = 1;                 // forward when the chosen tier's waiting requests >= this
  double usd_per_million_input_tokens = 0;     // upstream price of prompt tokens
  double usd_per_million_output_tokens = 0;    // upstream price of completion tokens
  std::string api_key;                         // sent as "Authorization: Bearer"; "" = none
  std::chrono::seconds timeout{600};           // connect + read limit of one upstream request
};

struct OverflowReply {
  int http_status = 200;
  std::string body;                      // JSON (a full response or an OpenAI error)
  std::shared_ptr<ReplyStream> stream;   // set: an SSE passthrough
};

class OverflowClient {
 public:
  // Called once per answered request with its usage (cost_usd set), for the metrics.
  using UsageCallback = std::function<void(const Usage&)>;

  // Checks the options: an http:// URL with a host, a model, threshold >= 1, prices >= 0.
  static Expected<std::unique_ptr<OverflowClient>> create(OverflowOptions options);

  const OverflowOptions& options() const { return options_; }
  // Prompt and completion tokens at the configured prices.
  double cost_usd(int64_t prompt_tokens, int64_t completion_tokens) const;
  // Forwards the client's parsed body (its "model" replaced by options().model) to the endpoint's
  // path upstream; body["stream"] decides between a full reply and a stream.
  OverflowReply forward(ApiEndpoint endpoint, nlohmann::json body, UsageCallback on_usage) const;

 private:
  OverflowClient(OverflowOptions options, std::string scheme_host_port)
      : options_(std::move(options)), scheme_host_port_(std::move(scheme_host_port)) {}
  OverflowReply forward_full(const std::string& path, const nlohmann::json& body, const UsageCallback& on_usage) const;
  OverflowReply forward_stream(const std::string& path, nlohmann::json body, const UsageCallback& on_usage) const;

  OverflowOptions options_;
  std::string scheme_host_port_;  // "http://host:port"
};

// Adds "cost_usd" to a response's (or usage chunk's) "usage" object and returns the usage read;
// nullopt when there is no usage object.
std::optional<Usage> price_usage(nlohmann::json& response, const OverflowClient& client);

}  // namespace frugal
