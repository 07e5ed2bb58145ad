// The overflow client against a real upstream on loopback: the in-process HTTP server over the fake
// engine (so the token counts are known), reached with real HTTP. Full and streamed answers are
// priced from the upstream usage; a dead upstream is a 502; an upstream 4xx passes through.
#include "server/overflow_client.h"

#include <httplib.h>

#include <gtest/gtest.h>

#include "server/fake_engine.h"
#include "server/http_server.h"
#include "server/server_test_util.h"

namespace frugal {
namespace {

using json = nlohmann::json;

constexpr double kInputPrice = 2.0;    // USD per million prompt tokens
constexpr double kOutputPrice = 10.0;  // USD per million completion tokens

class StringSink final : public SseSink {
 public:
  bool write(std::string_view bytes) override {
    text += bytes;
    return true;
  }
  void done() override { finished = true; }
  std::string text;
  bool finished = false;
};

class Upstream {
 public:
  Upstream() : engine(testing::FakeEngineOptions{}) {
    HttpServerOptions options;
    options.port = 0;
    options.model_name = "upstream-model";
    server = std::make_unique<HttpServer>(engine, testing::test_tokenizer(), nullptr, options);
    EXPECT_TRUE(server->start_background().is_ok());
  }
  ~Upstream() { server->shutdown(std::chrono::milliseconds(0)); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()) + "/v1"; }

  testing::FakeEngine engine;
  std::unique_ptr<HttpServer> server;
};

std::unique_ptr<OverflowClient> make_client(const std::string& url, const std::string& model = "upstream-model") {
  OverflowOptions options;
  options.url = url;
  options.model = model;
  options.usd_per_million_input_tokens = kInputPrice;
  options.usd_per_million_output_tokens = kOutputPrice;
  options.timeout = std::chrono::seconds(10);
  auto client = OverflowClient::create(options);
  EXPECT_TRUE(client) << client.error().to_string();
  return client ? std::move(*client) : nullptr;
}

// Pumps a stream to its end (bounded).
std::string drain(ReplyStream& stream) {
  StringSink sink;
  for (int pump_idx = 0; pump_idx < 300 && !sink.finished; ++pump_idx) EXPECT_TRUE(stream.pump(sink));
  EXPECT_TRUE(sink.finished) << "the stream did not end";
  return sink.text;
}

TEST(OverflowClient, FullAnswersArePricedFromTheUpstreamUsage) {
  Upstream upstream;
  auto client = make_client(upstream.url());
  std::vector<Usage> seen;
  const json body = {{"model", "auto"}, {"prompt", "hello there"}, {"max_tokens", 5}};
  OverflowReply reply = client->forward(ApiEndpoint::kCompletions, body, [&](const Usage& u) { seen.push_back(u); });
  ASSERT_EQ(reply.http_status, 200) << reply.body;
  const json response = json::parse(reply.body);
  EXPECT_EQ(response["model"], "upstream-model") << "the model was replaced by --overflow-model";
  const int64_t prompt_tokens = response["usage"]["prompt_tokens"];
  EXPECT_EQ(response["usage"]["completion_tokens"], 5);
  EXPECT_GT(prompt_tokens, 0);
  const double expected = (prompt_tokens * kInputPrice + 5 * kOutputPrice) / 1e6;
  EXPECT_DOUBLE_EQ(response["usage"]["cost_usd"].get<double>(), expected);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_DOUBLE_EQ(seen[0].cost_usd, expected);
  ASSERT_EQ(upstream.engine.submitted().size(), 1u);
  EXPECT_EQ(upstream.engine.submitted()[0].max_tokens, 5);
}

TEST(OverflowClient, StreamsPassThroughWithThePricedUsage) {
  Upstream upstream;
  auto client = make_client(upstream.url());
  for (const bool client_wants_usage : {false, true}) {
    std::vector<Usage> seen;
    json body = {{"model", "auto"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 4},
                 {"stream", true}};
    if (client_wants_usage) body["stream_options"] = {{"include_usage", true}};
    OverflowReply reply = client->forward(ApiEndpoint::kChatCompletions, body, [&](const Usage& u) { seen.push_back(u); });
    ASSERT_EQ(reply.http_status, 200) << reply.body;
    ASSERT_TRUE(reply.stream);
    const std::vector<std::string> payloads = testing::sse_payloads(drain(*reply.stream));
    ASSERT_FALSE(payloads.empty());
    EXPECT_EQ(payloads.back(), "[DONE]");
    std::string text;
    bool usage_chunk = false;
    for (size_t idx = 0; idx + 1 < payloads.size(); ++idx) {
      const json chunk = json::parse(payloads[idx]);
      if (!chunk["choices"].empty()) text += chunk["choices"][0]["delta"].value("content", "");
      if (chunk.contains("usage") && chunk["usage"].is_object()) {
        usage_chunk = true;
        EXPECT_DOUBLE_EQ(chunk["usage"]["cost_usd"].get<double>(), seen.at(0).cost_usd);
      }
    }
    EXPECT_EQ(text, "w0 w1 w2 w3 ");
    EXPECT_EQ(usage_chunk, client_wants_usage) << "the usage chunk is shown only when asked for";
    ASSERT_EQ(seen.size(), 1u) << "the cost is known either way";
    EXPECT_EQ(seen[0].completion_tokens, 4);
    EXPECT_DOUBLE_EQ(seen[0].cost_usd, client->cost_usd(seen[0].prompt_tokens, 4));
  }
}

TEST(OverflowClient, DeadUpstreamIs502AndUpstream4xxPassesThrough) {
  int dead_port = 0;
  {
    Upstream gone;
    dead_port = gone.server->port();
  }  // nothing listens there any more
  auto dead = make_client("http://127.0.0.1:" + std::to_string(dead_port));
  for (const bool stream : {false, true}) {
    bool called = false;
    OverflowReply reply = dead->forward(ApiEndpoint::kCompletions, json{{"prompt", "a"}, {"stream", stream}},
                                        [&](const Usage&) { called = true; });
    EXPECT_EQ(reply.http_status, 502);
    const json error = json::parse(reply.body);
    EXPECT_EQ(error["error"]["code"], "overflow_upstream_error") << reply.body;
    EXPECT_FALSE(called);
  }
  Upstream upstream;
  auto wrong_model = make_client(upstream.url(), "no-such-model");
  OverflowReply reply = wrong_model->forward(ApiEndpoint::kCompletions, json{{"prompt", "a"}}, [](const Usage&) {});
  EXPECT_EQ(reply.http_status, 404) << reply.body;
  EXPECT_EQ(json::parse(reply.body)["error"]["code"], "model_not_found");
}

TEST(OverflowClient, OptionsAreChecked) {
  OverflowOptions options;
  options.model = "m";
  for (const std::string& url : {"https://api.example.com", "127.0.0.1:8080", "http://", "http://h:1/v2/x"}) {
    options.url = url;
    EXPECT_FALSE(OverflowClient::create(options)) << url;
  }
  options.url = "http://127.0.0.1:8080/v1/";
  EXPECT_TRUE(OverflowClient::create(options));
  options.queue_threshold = 0;
  EXPECT_FALSE(OverflowClient::create(options));
  options.queue_threshold = 1;
  options.usd_per_million_input_tokens = -1;
  EXPECT_FALSE(OverflowClient::create(options));
  options.usd_per_million_input_tokens = 1;
  options.model = "";
  EXPECT_FALSE(OverflowClient::create(options));
}

}  // namespace
}  // namespace frugal
