// WebhookSender: POSTs one signed Standard Webhooks event to an endpoint with libcurl (webhooks
// layer). Headers: webhook-id (the event's id, the same on every retry), webhook-timestamp (unix
// seconds of this attempt), webhook-signature (signature.h), Content-Type: application/json.
// Success is any 2xx; the caller (jobs/webhook_dispatcher) decides about retries.
// Threading contract: send() may be called from any thread (each call uses its own curl handle).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/expected.h"

namespace frugal::webhooks {

struct WebhookEndpoint {
  std::string url;     // http:// or https://
  std::string secret;  // "whsec_<base64>"
};

class WebhookSender {
 public:
  // kInvalidArgument for a URL that is not http(s) or a malformed secret.
  static Expected<WebhookSender> create(const WebhookEndpoint& endpoint,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // The HTTP status the endpoint answered (2xx: delivered), or kUnavailable when it gave no answer
  // (refused, timed out, TLS failure) — both are retried by the caller.
  Expected<int> send(const std::string& webhook_id, int64_t timestamp, const std::string& body) const;

  const std::string& url() const { return url_; }

 private:
  WebhookSender(std::string url, std::string key, std::chrono::milliseconds timeout)
      : url_(std::move(url)), key_(std::move(key)), timeout_(timeout) {}

  std::string url_;
  std::string key_;  // the decoded secret
  std::chrono::milliseconds timeout_;
};

}  // namespace frugal::webhooks
