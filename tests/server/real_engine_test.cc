// The HTTP server over the real engine and the small test model, in-process on 127.0.0.1: limits
// that depend on the real context, bad inputs, and that a client hanging up mid-stream frees the
// request's KV blocks.
#include <httplib.h>

#include <gtest/gtest.h>

#include <thread>

#include "server/engine_server_fixture.h"

namespace frugal {
namespace {

using json = nlohmann::json;

constexpr int64_t kContext = 64;
constexpr double kUsdPerHour = 3.6;  // the live cost meter's price in these tests

class RealEngineServer : public testing::EngineServerTest {
 protected:
  void SetUp() override {
    EngineOptions engine_options;
    engine_options.num_threads = 2;
    engine_options.max_context = kContext;
    engine_options.max_running = 4;
    engine_options.max_waiting = 8;
    engine_options.usd_per_hour = kUsdPerHour;
    ASSERT_NO_FATAL_FAILURE(start(engine_options, HttpServerOptions{}));
  }
};

TEST_F(RealEngineServer, ContextLimitsAndBadInputsAre400s) {
  struct Case {
    const char* name;
    std::string body;
    const char* param;
  };
  const Case cases[] = {
      {"prompt longer than the context", json{{"prompt", std::vector<int>(kContext, 5)}}.dump(), "prompt"},
      {"max_tokens beyond the context", R"({"prompt": "a", "max_tokens": 65})", "max_tokens"},
      {"negative max_tokens", R"({"prompt": "a", "max_tokens": -1})", "max_tokens"},
      {"token outside the vocabulary", R"({"prompt": [1, 512]})", "prompt"},
      {"too many stop strings", R"({"prompt": "a", "stop": ["a","b","c","d","e"]})", "stop"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto res = client_->Post("/v1/completions", c.body, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_EQ(json::parse(res->body)["error"]["param"], c.param) << res->body;
  }
  // The longest prompt that fits (context - 1 tokens) is accepted and gets exactly one token.
  auto ok = client_->Post("/v1/completions", json{{"prompt", std::vector<int>(kContext - 1, 5)}, {"max_tokens", 8}}.dump(),
                          "application/json");
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(json::parse(ok->body)["usage"]["prompt_tokens"], kContext - 1);
  EXPECT_LE(json::parse(ok->body)["usage"]["completion_tokens"], 1);
}

TEST_F(RealEngineServer, ClientDisconnectFreesTheKvBlocks) {
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.set_header("Content-Type", "application/json");
  req.body = R"({"prompt": "a b c d e f g h", "max_tokens": 50, "temperature": 0, "ignore_eos": true, "stream": true})";
  std::string received;
  req.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
    received.append(data, length);
    return received.find("\"text\"") == std::string::npos;  // hang up after the first token chunk
  };
  {
    httplib::Client client("127.0.0.1", server_->port());
    client.set_read_timeout(30, 0);
    auto res = client.send(req);
    EXPECT_FALSE(res);
  }
  ASSERT_NE(received.find("data: {"), std::string::npos) << received;
  // First the server notices the hang-up and cancels (counted), then the engine frees the blocks.
  bool cancelled = false;
  for (int attempt = 0; attempt < 500 && !cancelled; ++attempt) {
    auto res = client_->Get("/metrics");
    cancelled = res && res->body.find("frugal_requests_total{outcome=\"cancelled\"} 1") != std::string::npos;
    if (!cancelled) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(cancelled) << "the server did not cancel the disconnected request";
  bool freed = false;
  for (int attempt = 0; attempt < 500 && !freed; ++attempt) {
    freed = metric("frugal_kv_blocks_used") == 0 && metric("frugal_requests_running") == 0;
    if (!freed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(freed) << "the engine still holds the disconnected request's KV blocks";
}

// The live cost meter through HTTP: usage.cost_usd sums the choices (n = 2, two prompts), the
// X-Frugal-Cost-USD header repeats it, a stream's usage chunk carries it, and the responses' costs
// add up to frugal_cost_usd_total within 1 %.
TEST_F(RealEngineServer, CostUsdInEveryUsageAddsUpToTheMetersTotal) {
  auto res = client_->Post("/v1/completions",
                           R"({"prompt": ["a b c d e f g h i j", "x"], "n": 2, "max_tokens": 6, "temperature": 0})",
                           "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json usage = json::parse(res->body)["usage"];
  const double cost = usage["cost_usd"].get<double>();
  const double seconds = usage["compute_seconds"].get<double>();
  EXPECT_GT(cost, 0.0) << usage;
  EXPECT_NEAR(cost, seconds * kUsdPerHour / 3600.0, 1e-12 + 1e-9 * cost);
  ASSERT_TRUE(res->has_header("X-Frugal-Cost-USD"));
  EXPECT_NEAR(std::stod(res->get_header_value("X-Frugal-Cost-USD")), cost, 1e-10);

  std::string stream_body;
  auto streamed = client_->Post(
      "/v1/completions",
      R"({"prompt": "hello there", "max_tokens": 5, "stream": true, "stream_options": {"include_usage": true}})",
      "application/json");
  ASSERT_TRUE(streamed);
  ASSERT_EQ(streamed->status, 200);
  // The usage chunk is the last "data: {...}" before "data: [DONE]".
  const std::string& text = streamed->body;
  const size_t done = text.rfind("data: [DONE]");
  ASSERT_NE(done, std::string::npos) << text;
  const size_t last = text.rfind("data: {", done);
  ASSERT_NE(last, std::string::npos) << text;
  const json usage_chunk = json::parse(text.substr(last + 6, text.find('\n', last) - last - 6));
  const double stream_cost = usage_chunk["usage"]["cost_usd"].get<double>();
  EXPECT_GT(stream_cost, 0.0) << usage_chunk;

  // Four engine requests in the first response, one in the stream: nothing else ran.
  const double total = metric("frugal_cost_usd_total");
  ASSERT_GT(total, 0.0);
  EXPECT_NEAR((cost + stream_cost) / total, 1.0, 0.01) << cost + stream_cost << " vs " << total;
  EXPECT_DOUBLE_EQ(metric("frugal_price_usd_per_hour"), kUsdPerHour);
}

}  // namespace
}  // namespace frugal
