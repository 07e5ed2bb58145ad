// The HTTP front end against hostile and careless clients, in process over the fake engine, driven
// with raw sockets (issue #24, item 1 and 2): deep JSON, bad framing, pipelining, 405 Allow, media
// types, header/idle deadlines, connection caps, /health beside busy workers, and hang-ups that
// cancel non-streaming requests at once.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <thread>
#include <vector>

#include "server/fake_engine.h"
#include "server/http_server.h"
#include "server/raw_http_client.h"
#include "server/server_test_util.h"

namespace frugal {
namespace {

using json = nlohmann::json;
using testing::FakeEngine;
using testing::FakeEngineOptions;
using testing::raw_get;
using testing::raw_post;
using testing::RawClient;
using testing::RawResponse;

struct Served {
  explicit Served(FakeEngineOptions engine_options = {}, HttpServerOptions options = {}) : engine(engine_options) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.model_name = "test-model";
    server = std::make_unique<HttpServer>(engine, testing::test_tokenizer(), &registry, options);
    const Status status = server->start_background();
    EXPECT_TRUE(status.is_ok()) << status.to_string();
  }
  ~Served() {
    if (!server->shutting_down()) server->shutdown(std::chrono::milliseconds(0));
  }
  // One request on a fresh connection.
  std::optional<RawResponse> exchange(const std::string& request, int timeout_ms = 5000) {
    RawClient client;
    if (!client.connect(server->port()) || !client.send(request)) return std::nullopt;
    return client.read_response(timeout_ms);
  }
  void expect_healthy() {
    auto health = exchange(raw_get("/health"));
    ASSERT_TRUE(health.has_value()) << "the server did not answer /health";
    EXPECT_EQ(health->status, 200);
  }
  bool metric_at_least(const std::string& series, double value) {
    const std::string text = registry.render();
    const size_t at = text.find("\n" + series + " ");
    return at != std::string::npos && std::stod(text.substr(at + series.size() + 2)) >= value;
  }

  MetricsRegistry registry;
  FakeEngine engine;
  std::unique_ptr<HttpServer> server;
};

void expect_error(const std::optional<RawResponse>& res, int status, const std::string& code = "") {
  ASSERT_TRUE(res.has_value()) << "no response";
  EXPECT_EQ(res->status, status) << res->body;
  EXPECT_EQ(res->header("content-type"), "application/json");
  const json body = json::parse(res->body, nullptr, false);
  ASSERT_TRUE(body.contains("error")) << res->body;
  EXPECT_TRUE(body["error"]["message"].is_string());
  if (!code.empty()) {
    EXPECT_EQ(body["error"]["code"], code) << res->body;
  }
}

bool wait_until(const std::function<bool()>& condition, int timeout_ms = 5000) {
  for (int waited_ms = 0; waited_ms < timeout_ms; waited_ms += 5) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

TEST(HttpFrontEnd, DeeplyNestedJsonIs400AndTheServerLives) {
  Served s;
  const std::string nested = "{\"prompt\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_error(s.exchange(raw_post("/v1/completions", nested)), 400, "json_too_deep");
  const std::string chat = "{\"messages\":[{\"role\":\"user\",\"content\":" + std::string(5000, '[') +
                           std::string(5000, ']') + "}]}";
  expect_error(s.exchange(raw_post("/v1/chat/completions", chat)), 400, "json_too_deep");
  s.expect_healthy();
  EXPECT_TRUE(s.engine.submitted().empty());
}

TEST(HttpFrontEnd, BadFramingGetsAStatusNotSilence) {
  Served s;
  expect_error(s.exchange("POST /v1/completions HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n"),
               400, "content_length");
  expect_error(s.exchange("POST /v1/completions HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"),
               400);
  expect_error(s.exchange("BREW /v1/completions HTTP/9.9\r\n\r\n"), 505);
  expect_error(s.exchange("complete nonsense\r\n\r\n"), 400);
  s.expect_healthy();
}

TEST(HttpFrontEnd, OversizedBodiesAre413HoweverSent) {
  HttpServerOptions options;
  options.max_body_bytes = 4096;
  Served s({}, options);
  const std::string big = json{{"prompt", std::string(10000, 'a')}}.dump();
  expect_error(s.exchange(raw_post("/v1/completions", big)), 413, "request_too_large");
  // Chunked: refused as soon as the decoded size passes the limit, not after 100 MB.
  RawClient client;
  ASSERT_TRUE(client.connect(s.server->port()));
  ASSERT_TRUE(client.send("POST /v1/completions HTTP/1.1\r\nContent-Type: application/json\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "400\r\n" + std::string(1024, 'a') + "\r\n";
  for (int chunk_idx = 0; chunk_idx < 8 && client.send(chunk); ++chunk_idx) {
  }
  expect_error(client.read_response(), 413, "request_too_large");
  s.expect_healthy();
}

TEST(HttpFrontEnd, PipelinedRequestsAreAllAnsweredInOrder) {
  Served s;
  RawClient client;
  ASSERT_TRUE(client.connect(s.server->port()));
  const std::string body = R"({"prompt": "a", "max_tokens": 2})";
  ASSERT_TRUE(client.send(raw_get("/health") + raw_post("/v1/completions", body) + raw_get("/v1/models") +
                          raw_get("/metrics")));
  auto first = client.read_response();
  auto second = client.read_response();
  auto third = client.read_response();
  auto fourth = client.read_response();
  ASSERT_TRUE(first && second && third && fourth);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, R"({"status":"ok"})");
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(json::parse(second->body)["object"], "text_completion");
  EXPECT_EQ(json::parse(third->body)["object"], "list");
  EXPECT_NE(fourth->body.find("frugal_requests_total"), std::string::npos);
}

TEST(HttpFrontEnd, MethodNotAllowedNamesTheAllowedMethods) {
  Served s;
  auto get_chat = s.exchange(raw_get("/v1/chat/completions"));
  expect_error(get_chat, 405);
  EXPECT_EQ(get_chat->header("allow"), "POST");
  auto post_health = s.exchange(raw_post("/health", "{}"));
  expect_error(post_health, 405);
  EXPECT_EQ(post_health->header("allow"), "GET, HEAD");
}

TEST(HttpFrontEnd, JsonRoutesRequireApplicationJson) {
  Served s;
  const std::string body = R"({"prompt": "a", "max_tokens": 1})";
  expect_error(s.exchange(raw_post("/v1/completions", body, "text/plain")), 415, "unsupported_media_type");
  expect_error(s.exchange(raw_post("/v1/chat/completions", body, "application/x-www-form-urlencoded")), 415);
  expect_error(s.exchange("POST /v1/completions HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"), 415);
  EXPECT_TRUE(s.engine.submitted().empty());
  auto ok = s.exchange(raw_post("/v1/completions", body, "application/json; charset=utf-8"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST(HttpFrontEnd, SlowHeadsGet408AndIdleConnectionsClose) {
  HttpServerOptions options;
  options.header_timeout = std::chrono::milliseconds(300);
  options.idle_timeout = std::chrono::milliseconds(300);
  Served s({}, options);
  RawClient loris;
  ASSERT_TRUE(loris.connect(s.server->port()));
  const auto start = std::chrono::steady_clock::now();
  // One byte every 50 ms: each byte would reset a per-read timeout, never the head's deadline.
  const std::string head = "GET /health HTTP/1.1\r\nX-Slow: ";
  for (size_t byte_idx = 0; byte_idx < 40 && loris.send(head.substr(byte_idx % head.size(), 1)); ++byte_idx) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (std::chrono::steady_clock::now() - start > std::chrono::seconds(1)) break;
  }
  expect_error(loris.read_response(2000), 408, "header_timeout");
  RawClient idle;
  ASSERT_TRUE(idle.connect(s.server->port()));
  EXPECT_TRUE(idle.closed_by_peer(2000)) << "an idle connection is closed after the idle timeout";
  EXPECT_TRUE(s.metric_at_least("frugal_http_timeouts_total{phase=\"header\"}", 1));
  EXPECT_TRUE(s.metric_at_least("frugal_http_timeouts_total{phase=\"idle\"}", 1));
}

TEST(HttpFrontEnd, ConnectionCapsAnswer503ButKeepServingProbes) {
  HttpServerOptions options;
  options.max_connections_per_address = 4;
  Served s({}, options);
  std::vector<RawClient> held(4);
  for (RawClient& client : held) ASSERT_TRUE(client.connect(s.server->port(), "127.0.0.2"));
  ASSERT_TRUE(wait_until([&] { return s.metric_at_least("frugal_http_connections", 4); }));
  const std::string body = R"({"prompt": "a", "max_tokens": 1})";
  RawClient over;
  ASSERT_TRUE(over.connect(s.server->port(), "127.0.0.2"));
  ASSERT_TRUE(over.send(raw_post("/v1/completions", body)));
  auto refused = over.read_response();
  expect_error(refused, 503, "too_many_connections");
  EXPECT_EQ(refused->header("retry-after"), "1");
  const auto [health_status, health_ms] = testing::timed_health(s.server->port(), "127.0.0.2");
  EXPECT_EQ(health_status, 200) << "probes are served beyond the cap";
  auto other = s.exchange(raw_post("/v1/completions", body));  // from 127.0.0.1: its own budget
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_TRUE(s.metric_at_least("frugal_http_connections_refused_total{reason=\"address_cap\"}", 1));
}

TEST(HttpFrontEnd, HealthAnswersWhileEveryWorkerIsBusy) {
  FakeEngineOptions engine_options;
  engine_options.token_delay = std::chrono::milliseconds(20);
  engine_options.capacity = 32;
  HttpServerOptions options;
  options.num_http_threads = 2;
  Served s(engine_options, options);
  std::vector<RawClient> streams(6);  // 2 served, 4 queued for a worker
  for (RawClient& client : streams) {
    ASSERT_TRUE(client.connect(s.server->port()));
    ASSERT_TRUE(client.send(raw_post("/v1/completions", R"({"prompt": "a", "max_tokens": 100, "stream": true})")));
  }
  ASSERT_TRUE(wait_until([&] { return s.engine.submitted().size() >= 2; }));
  for (int probe_idx = 0; probe_idx < 10; ++probe_idx) {
    const auto [status, ms] = testing::timed_health(s.server->port());
    EXPECT_EQ(status, 200);
    EXPECT_LT(ms, 100.0) << "probe " << probe_idx;
  }
}

TEST(HttpFrontEnd, NonStreamingHangUpCancelsAtOnce) {
  FakeEngineOptions engine_options;
  engine_options.token_delay = std::chrono::milliseconds(10);
  Served s(engine_options);
  RawClient client;
  ASSERT_TRUE(client.connect(s.server->port()));
  // n=4 x 250 tokens: 2.5 s of generation nobody will read.
  ASSERT_TRUE(client.send(raw_post("/v1/completions", R"({"prompt": "a", "max_tokens": 250, "n": 4})")));
  ASSERT_TRUE(wait_until([&] { return s.engine.submitted().size() == 4; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto hung_up = std::chrono::steady_clock::now();
  client.close();
  ASSERT_TRUE(wait_until([&] { return s.engine.cancelled_count() == 4; }, 2000)) << "the choices were not cancelled";
  EXPECT_LT(std::chrono::steady_clock::now() - hung_up, std::chrono::milliseconds(1000));
  EXPECT_TRUE(wait_until([&] { return s.metric_at_least("frugal_http_client_hangups_total", 1); }));
  EXPECT_TRUE(wait_until([&] { return s.metric_at_least("frugal_requests_total{outcome=\"cancelled\"}", 4); }));
  s.expect_healthy();
}

}  // namespace
}  // namespace frugal
