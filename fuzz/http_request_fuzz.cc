// libFuzzer target for the HTTP front end's request path: arbitrary bytes from a client go through
// the gate's HttpRequestReader (fed in two pieces, pipelined requests one after another), the JSON
// nesting limit, cpp-httplib's parsing of the normalized request (headers, query, multipart forms)
// and the request validation of both API routes: the OpenAI chat/completions schema and the Videos
// API's create fields. Nothing may crash, hang or leak. Build: -DFRUGAL_FUZZ=ON with clang; run:
// scripts/run-fuzz BUILD_DIR SECONDS.
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/http_request_reader.h"
#include "server/json_limits.h"
#include "server/openai_schema.h"
#include "server/video_request_parser.h"

namespace {

// A request already in memory; the response is discarded.
class MemoryStream final : public httplib::Stream {
 public:
  explicit MemoryStream(std::string request) : request_(std::move(request)) {}
  bool is_readable() const override { return pos_ < request_.size(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, request_.size() - pos_);
    std::memcpy(ptr, request_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char*, size_t size) override { return static_cast<ssize_t>(size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 1;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 2;
  }
  socket_t socket() const override { return -1; }

 private:
  std::string request_;
  size_t pos_ = 0;
};

void validate_openai(frugal::ApiEndpoint endpoint, const std::string& body) {
  if (frugal::check_json_depth(body)) return;  // refused before anything recurses
  const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return;
  frugal::ApiRequest request;
  (void)frugal::parse_api_request(endpoint, parsed, request);
  (void)parsed.dump();  // the error path's dump() must be safe on anything that passed the limit
}

// cpp-httplib's routing over validation-only handlers (no engine behind them).
class ValidationServer final : public httplib::Server {
 public:
  ValidationServer() {
    set_payload_max_length(1 << 20);
    Post("/v1/chat/completions", [](const httplib::Request& req, httplib::Response& res) {
      validate_openai(frugal::ApiEndpoint::kChatCompletions, req.body);
      res.set_content("{}", "application/json");
    });
    Post("/v1/completions", [](const httplib::Request& req, httplib::Response& res) {
      validate_openai(frugal::ApiEndpoint::kCompletions, req.body);
      res.set_content("{}", "application/json");
    });
    Post(R"(/v1/videos(/[^/]+/remix)?)", [](const httplib::Request& req, httplib::Response& res) {
      if (!frugal::check_json_depth(req.body)) (void)frugal::parse_video_create_request(req);
      res.set_content("{}", "application/json");
    });
  }
  void serve(std::string request) {
    MemoryStream stream(std::move(request));
    bool closed = false;
    (void)process_request(stream, false, closed, nullptr);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ValidationServer* server = new ValidationServer();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  frugal::HttpRequestLimits limits;
  limits.max_body_bytes = 1 << 16;
  frugal::HttpRequestReader reader(limits);
  const size_t split = size == 0 ? 0 : data[0] % size;
  auto progress = reader.feed(bytes.substr(0, split));
  if (progress == frugal::HttpRequestReader::Progress::kNeedMore) progress = reader.feed(bytes.substr(split));
  for (int request_idx = 0; request_idx < 8 && progress == frugal::HttpRequestReader::Progress::kComplete;
       ++request_idx) {
    (void)reader.head().header("Content-Type");
    server->serve(reader.normalized());
    reader.next_request();
    progress = reader.parse();
  }
  if (progress == frugal::HttpRequestReader::Progress::kError && reader.error().http_status < 400) __builtin_trap();
  return 0;
}
