#include "webhooks/webhook_sender.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "webhooks/signature.h"

namespace frugal::webhooks {
namespace {

// curl_global_init is not thread-safe: once, before the first handle.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t discard_body(char*, size_t size, size_t count, void*) { return size * count; }

}  // namespace

Expected<WebhookSender> WebhookSender::create(const WebhookEndpoint& endpoint, std::chrono::milliseconds timeout) {
  if (endpoint.url.rfind("http://", 0) != 0 && endpoint.url.rfind("https://", 0) != 0) {
    return invalid_argument("webhook URL must start with http:// or https://, got '" + endpoint.url + "'");
  }
  auto key = decode_webhook_secret(endpoint.secret);
  if (!key) return key.error();
  init_curl_once();
  return WebhookSender(endpoint.url, std::move(*key), timeout);
}

Expected<int> WebhookSender::send(const std::string& webhook_id, int64_t timestamp, const std::string& body) const {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return internal_error("curl_easy_init failed");
  curl_slist* raw_headers = nullptr;
  for (const std::string& header :
       {std::string("Content-Type: application/json"), "webhook-id: " + webhook_id,
        "webhook-timestamp: " + std::to_string(timestamp),
        "webhook-signature: " + sign_webhook(key_, webhook_id, timestamp, body)}) {
    raw_headers = curl_slist_append(raw_headers, header.c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(raw_headers, &curl_slist_free_all);
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // several threads; no SIGALRM for timeouts
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is not a delivery
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "frugal-webhooks/1");
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &discard_body);
  const CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) return unavailable(std::string("webhook POST failed: ") + curl_easy_strerror(code));
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  return static_cast<int>(status);
}

}  // namespace frugal::webhooks
