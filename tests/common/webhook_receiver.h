// Test helper: a Standard Webhooks receiver on 127.0.0.1 (cpp-httplib) that checks each delivery's
// signature itself, with HMAC-SHA256 and base64 from OpenSSL — not frugal's webhooks/ code — and can
// be told to answer errors first. Header-only: the test binaries that use it link httplib and OpenSSL.
#pragma once

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace frugal::testing {

// base64 of the 24 bytes "frugal-webhook-test-key!"
inline constexpr const char* kWebhookSecret = "whsec_ZnJ1Z2FsLXdlYmhvb2stdGVzdC1rZXkh";

inline std::string openssl_base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// The receiver's own check of webhook-signature, as the spec describes it.
inline std::string expected_webhook_signature(const std::string& id, const std::string& timestamp, const std::string& body) {
  std::string key(64, '\0');
  const std::string b64 = std::string(kWebhookSecret).substr(6);
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(key.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  key.resize(static_cast<size_t>(n) - std::count(b64.begin(), b64.end(), '='));
  const std::string text = id + "." + timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_bytes = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(text.data()),
       text.size(), mac, &mac_bytes);
  return "v1," + openssl_base64(std::string(reinterpret_cast<char*>(mac), mac_bytes));
}

struct WebhookDelivery {
  std::string id, timestamp, signature, body;
  bool signature_ok = false;
};

// A loopback webhook endpoint: answers the queued statuses first, then 200.
class WebhookReceiver {
 public:
  WebhookReceiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      WebhookDelivery d{req.get_header_value("webhook-id"), req.get_header_value("webhook-timestamp"),
                 req.get_header_value("webhook-signature"), req.body};
      d.signature_ok = d.signature == expected_webhook_signature(d.id, d.timestamp, d.body);
      std::lock_guard<std::mutex> lock(mutex_);
      deliveries_.push_back(d);
      res.status = statuses_.empty() ? 200 : statuses_.front();
      if (!statuses_.empty()) statuses_.pop_front();
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int attempt = 0; attempt < 500 && !server_.is_running(); ++attempt) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~WebhookReceiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  void answer_next(int status) {
    std::lock_guard<std::mutex> lock(mutex_);
    statuses_.push_back(status);
  }
  std::vector<WebhookDelivery> deliveries() {
    std::lock_guard<std::mutex> lock(mutex_);
    return deliveries_;
  }
  // Waits (bounded) until `n` deliveries arrived.
  std::vector<WebhookDelivery> wait_for(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (deliveries().size() < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return deliveries();
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::deque<int> statuses_;
  std::vector<WebhookDelivery> deliveries_;
};

}  // namespace frugal::testing
