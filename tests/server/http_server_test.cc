// The HTTP server in-process on 127.0.0.1 (ephemeral port) over the fake engine, driven by a real
// HTTP client: happy paths, the bad-input table, auth, limits, 429/503, disconnects, /metrics.
#include "server/http_server.h"

#include <httplib.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <future>

#include "server/fake_engine.h"
#include "server/server_test_util.h"
#include "tokenizer/chat_template.h"

namespace frugal {
namespace {

using json = nlohmann::json;
using testing::FakeEngine;
using testing::FakeEngineOptions;

constexpr const char* kJson = "application/json";

class ServerFixture {
 public:
  explicit ServerFixture(FakeEngineOptions engine_options = {}, HttpServerOptions options = {})
      : engine(engine_options) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.model_name = "test-model";
    server = std::make_unique<HttpServer>(engine, testing::test_tokenizer(), &registry, options);
    const Status status = server->start_background();
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    client = std::make_unique<httplib::Client>("127.0.0.1", server->port());
    client->set_read_timeout(20, 0);
    client->set_connection_timeout(5, 0);
  }
  ~ServerFixture() {
    if (!server->shutting_down()) server->shutdown(std::chrono::milliseconds(0));
  }
  httplib::Result post(const std::string& path, const std::string& body, const httplib::Headers& headers = {}) {
    return client->Post(path.c_str(), headers, body, kJson);
  }

  MetricsRegistry registry;
  FakeEngine engine;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<httplib::Client> client;
};

json body_json(const httplib::Result& res) {
  EXPECT_TRUE(res) << "no response";
  if (!res) return json();
  json parsed = json::parse(res->body, nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << res->body;
  return parsed;
}

// An OpenAI error: the status, a JSON body with error.message/type, and the named param.
void expect_api_error(const httplib::Result& res, int status, const std::string& param = "*") {
  ASSERT_TRUE(res) << "no response";
  EXPECT_EQ(res->status, status) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), kJson);
  const json body = body_json(res);
  ASSERT_TRUE(body.contains("error")) << res->body;
  EXPECT_TRUE(body["error"]["message"].is_string());
  EXPECT_TRUE(body["error"]["type"].is_string());
  EXPECT_TRUE(body["error"].contains("param") && body["error"].contains("code"));
  if (param != "*") {
    EXPECT_EQ(body["error"]["param"], param) << res->body;
  }
}

bool wait_until(const std::function<bool()>& condition, int timeout_ms = 5000) {
  for (int waited_ms = 0; waited_ms < timeout_ms; waited_ms += 5) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

TEST(HttpServer, HealthModelsAndCompletion) {
  ServerFixture f;
  auto health = f.client->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(body_json(health)["status"], "ok");
  const json models = body_json(f.client->Get("/v1/models"));
  EXPECT_EQ(models["object"], "list");
  EXPECT_EQ(models["data"][0]["id"], "test-model");
  EXPECT_EQ(body_json(f.client->Get("/v1/models/test-model"))["id"], "test-model");
  expect_api_error(f.client->Get("/v1/models/other"), 404);

  auto res = f.post("/v1/completions", R"({"model": "test-model", "prompt": "hello world", "max_tokens": 3,
                                           "temperature": 0.7, "seed": 9, "stop": ["zz"]})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = body_json(res);
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["model"], "test-model");
  EXPECT_EQ(body["choices"][0]["text"], "w0 w1 w2 ");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(body["choices"][0]["logprobs"].is_null());
  const auto expected_prompt = testing::test_tokenizer().encode("hello world", true, false);
  EXPECT_EQ(body["usage"]["prompt_tokens"], expected_prompt.size());
  EXPECT_EQ(body["usage"]["completion_tokens"], 3);
  EXPECT_EQ(body["usage"]["total_tokens"], expected_prompt.size() + 3);
  EXPECT_EQ(body["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  const auto submitted = f.engine.submitted();
  ASSERT_EQ(submitted.size(), 1u);
  EXPECT_EQ(submitted[0].prompt, expected_prompt);
  EXPECT_FLOAT_EQ(submitted[0].sampling.temperature, 0.7f);
  EXPECT_EQ(submitted[0].sampling.seed, 9u);
  EXPECT_EQ(submitted[0].stop, std::vector<std::string>{"zz"});
  EXPECT_EQ(submitted[0].max_tokens, 3);
}

TEST(HttpServer, ChatAppliesTheTemplateAndReturnsAMessage) {
  ServerFixture f;
  auto res = f.post("/v1/chat/completions", R"({"messages": [{"role": "system", "content": "sys"},
      {"role": "user", "content": [{"type": "text", "text": "hi"}]}], "max_completion_tokens": 2,
      "logprobs": true, "top_logprobs": 2})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = body_json(res);
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(body["choices"][0]["message"]["content"], "w0 w1 ");
  const json& content = body["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), 2u);
  EXPECT_EQ(content[1]["token"], testing::test_tokenizer().token_to_piece(1));
  EXPECT_EQ(content[1]["top_logprobs"].size(), 2u);
  EXPECT_TRUE(content[1]["bytes"].is_array());
  // The small test model has no chat template: ChatML, tokenized with special tokens parsed.
  const Tokenizer& tok = testing::test_tokenizer();
  auto rendered = apply_chat_template(ChatFormat::kChatML, {{"system", "sys"}, {"user", "hi"}}, true,
                                      tok.token_text(tok.bos_id()), tok.token_text(tok.eos_id()));
  ASSERT_TRUE(rendered);
  EXPECT_EQ(f.engine.submitted()[0].prompt, tok.encode(*rendered, true, true));
}

TEST(HttpServer, StreamingChatIsServerSentEvents) {
  ServerFixture f;
  auto res = f.post("/v1/chat/completions", R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4,
                                                "stream": true, "stream_options": {"include_usage": true}})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  const auto payloads = testing::sse_payloads(res->body);
  ASSERT_GE(payloads.size(), 4u);
  EXPECT_EQ(payloads.back(), "[DONE]");
  std::string content;
  for (size_t payload_idx = 0; payload_idx + 2 < payloads.size(); ++payload_idx) {
    const json chunk = json::parse(payloads[payload_idx]);
    const json& delta = chunk["choices"][0]["delta"];
    if (delta.contains("content")) content += delta["content"].get<std::string>();
  }
  EXPECT_EQ(content, "w0 w1 w2 w3 ");
  EXPECT_EQ(json::parse(payloads[payloads.size() - 2])["usage"]["completion_tokens"], 4);
}

TEST(HttpServer, MultipleChoicesAndPrompts) {
  ServerFixture f;
  auto res = f.post("/v1/completions", R"({"prompt": ["a", [5, 6, 7]], "n": 2, "max_tokens": 2, "seed": 42})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = body_json(res);
  ASSERT_EQ(body["choices"].size(), 4u);
  for (int choice_idx = 0; choice_idx < 4; ++choice_idx) {
    EXPECT_EQ(body["choices"][choice_idx]["index"], choice_idx);
    EXPECT_EQ(body["choices"][choice_idx]["text"], "w0 w1 ");
  }
  const size_t prompt_a = testing::test_tokenizer().encode("a", true, false).size();
  EXPECT_EQ(body["usage"]["prompt_tokens"], prompt_a + 3) << "each prompt counted once, not once per choice";
  EXPECT_EQ(body["usage"]["completion_tokens"], 8);
  const auto submitted = f.engine.submitted();
  ASSERT_EQ(submitted.size(), 4u);
  EXPECT_EQ(submitted[2].prompt, (std::vector<int32_t>{5, 6, 7}));
  EXPECT_EQ(submitted[0].sampling.seed, 42u);
  EXPECT_EQ(submitted[1].sampling.seed, 43u);
}

// The issue's table: each a 4xx OpenAI error, and the server still healthy afterwards.
TEST(HttpServer, BadInputTableGetsJsonErrorsAndTheServerStaysHealthy) {
  FakeEngineOptions engine_options;
  engine_options.max_context = 64;
  ServerFixture f(engine_options);
  std::string long_prompt;
  for (int word_idx = 0; word_idx < 200; ++word_idx) long_prompt += "license ";
  struct Case {
    const char* name;
    const char* path;
    std::string body;
    int status;
    const char* param;
  };
  const Case cases[] = {
      {"malformed JSON", "/v1/completions", R"({"prompt": "a",)", 400, "*"},
      {"not JSON at all", "/v1/chat/completions", "hello", 400, "*"},
      {"wrong type", "/v1/completions", R"({"prompt": "a", "max_tokens": "ten"})", 400, "max_tokens"},
      {"wrong type chat", "/v1/chat/completions", R"({"messages": {"role": "user"}})", 400, "messages"},
      {"negative max_tokens", "/v1/completions", R"({"prompt": "a", "max_tokens": -1})", 400, "max_tokens"},
      {"huge max_tokens", "/v1/completions", R"({"prompt": "a", "max_tokens": 100000})", 400, "max_tokens"},
      {"prompt longer than context", "/v1/completions", json{{"prompt", long_prompt}}.dump(), 400, "prompt"},
      {"token prompt longer than context", "/v1/completions", json{{"prompt", std::vector<int>(64, 1)}}.dump(), 400,
       "prompt"},
      {"token id outside vocab", "/v1/completions", R"({"prompt": [1, 999999]})", 400, "prompt"},
      {"invalid UTF-8", "/v1/completions", "{\"prompt\": \"a\xff\xfe\"}", 400, "*"},
      {"unknown model", "/v1/completions", R"({"model": "gpt-4", "prompt": "a"})", 404, "model"},
      {"too many stop strings", "/v1/completions", R"({"prompt": "a", "stop": ["1","2","3","4","5"]})", 400, "stop"},
      {"n out of range", "/v1/chat/completions", R"({"messages": [{"role": "user", "content": "x"}], "n": 99})", 400,
       "n"},
      {"bad role", "/v1/chat/completions", R"({"messages": [{"role": "wizard", "content": "x"}]})", 400, "messages"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    expect_api_error(f.post(c.path, c.body), c.status, c.param);
    auto health = f.client->Get("/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
  }
  EXPECT_TRUE(f.engine.submitted().empty()) << "nothing invalid reaches the engine";
  // Unknown fields are refused by name (issue #24: never silently ignored)...
  auto unknown = f.post("/v1/completions", R"({"prompt": "a", "max_tokens": 1, "frobnicate": [1, {"x": null}]})");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400) << unknown->body;
  EXPECT_NE(unknown->body.find("\"param\":\"frobnicate\""), std::string::npos) << unknown->body;
  // ...and a good request still works after all that.
  auto ok = f.post("/v1/completions", R"({"prompt": "a", "max_tokens": 1})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST(HttpServer, RoutesMethodsAndBodyLimit) {
  HttpServerOptions options;
  options.max_body_bytes = 4096;
  ServerFixture f({}, options);
  expect_api_error(f.client->Get("/v1/nothing"), 404);
  expect_api_error(f.client->Get("/v1/completions"), 405);
  expect_api_error(f.post("/health", "{}"), 405);
  expect_api_error(f.client->Delete("/v1/chat/completions"), 405);
  expect_api_error(f.post("/v1/completions", json{{"prompt", std::string(10000, 'a')}}.dump()), 413);
  auto health = f.client->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST(HttpServer, ApiKeys) {
  HttpServerOptions options;
  options.api_keys = {"sk-one", "sk-two"};
  ServerFixture f({}, options);
  const std::string body = R"({"prompt": "a", "max_tokens": 1})";
  expect_api_error(f.post("/v1/completions", body), 401);
  expect_api_error(f.post("/v1/completions", body, {{"Authorization", "Bearer sk-wrong"}}), 401);
  expect_api_error(f.post("/v1/completions", body, {{"Authorization", "sk-one"}}), 401);
  auto ok = f.post("/v1/completions", body, {{"Authorization", "Bearer sk-two"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto health = f.client->Get("/health");  // probes need no key
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST(HttpServer, QueueFullIs429WithRetryAfter) {
  FakeEngineOptions engine_options;
  engine_options.capacity = 1;
  ServerFixture f(engine_options);
  f.engine.hold();
  auto first = std::async(std::launch::async, [&] {
    httplib::Client client("127.0.0.1", f.server->port());
    client.set_read_timeout(20, 0);
    return client.Post("/v1/completions", R"({"prompt": "a", "max_tokens": 2})", kJson);
  });
  ASSERT_TRUE(wait_until([&] { return f.engine.active_count() == 1; }));
  auto rejected = f.post("/v1/completions", R"({"prompt": "b", "max_tokens": 2})");
  expect_api_error(rejected, 429);
  EXPECT_EQ(rejected->get_header_value("Retry-After"), "1");
  f.engine.release();
  auto first_res = first.get();
  ASSERT_TRUE(first_res);
  EXPECT_EQ(first_res->status, 200);
  EXPECT_NE(f.registry.render().find("frugal_requests_total{outcome=\"rejected\"} 1"), std::string::npos);
}

TEST(HttpServer, ShutdownDrainsAndAnswers503) {
  ServerFixture f;
  f.engine.hold();
  auto in_flight = std::async(std::launch::async, [&] {
    httplib::Client client("127.0.0.1", f.server->port());
    client.set_read_timeout(20, 0);
    return client.Post("/v1/completions", R"({"prompt": "a", "max_tokens": 2})", kJson);
  });
  ASSERT_TRUE(wait_until([&] { return f.engine.active_count() == 1; }));
  auto shutdown = std::async(std::launch::async, [&] { f.server->shutdown(std::chrono::milliseconds(500)); });
  ASSERT_TRUE(wait_until([&] { return f.server->shutting_down(); }));
  expect_api_error(f.post("/v1/completions", R"({"prompt": "b"})"), 503);
  auto health = f.client->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  // The held request never finishes within the drain: it is failed cleanly with an error.
  auto res = in_flight.get();
  expect_api_error(res, 503);
  shutdown.get();
  EXPECT_EQ(f.server->in_flight(), 0);
}

TEST(HttpServer, ShutdownLetsRunningRequestsFinish) {
  FakeEngineOptions engine_options;
  engine_options.token_delay = std::chrono::milliseconds(20);
  ServerFixture f(engine_options);
  auto in_flight = std::async(std::launch::async, [&] {
    httplib::Client client("127.0.0.1", f.server->port());
    client.set_read_timeout(20, 0);
    return client.Post("/v1/completions", R"({"prompt": "a", "max_tokens": 10, "stream": true})", kJson);
  });
  ASSERT_TRUE(wait_until([&] { return f.engine.active_count() == 1; }));
  f.server->shutdown(std::chrono::milliseconds(5000));
  auto res = in_flight.get();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  const auto payloads = testing::sse_payloads(res->body);
  ASSERT_FALSE(payloads.empty());
  EXPECT_EQ(payloads.back(), "[DONE]");
}

TEST(HttpServer, ClientDisconnectCancelsTheRequest) {
  FakeEngineOptions engine_options;
  engine_options.token_delay = std::chrono::milliseconds(10);
  ServerFixture f(engine_options);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.set_header("Content-Type", kJson);
  req.body = R"({"prompt": "a", "max_tokens": 250, "stream": true})";  // ~2.5 s of tokens
  std::string received;
  req.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
    received.append(data, length);
    return received.size() < 300;  // hang up after the first chunks
  };
  {
    httplib::Client client("127.0.0.1", f.server->port());
    client.set_read_timeout(20, 0);
    auto res = client.send(req);
    EXPECT_FALSE(res) << "the receiver aborted the transfer";
  }  // the client's socket closes here
  ASSERT_NE(received.find("data: {"), std::string::npos) << received;
  ASSERT_TRUE(wait_until([&] { return f.engine.cancelled_count() == 1; })) << "the engine request was not cancelled";
  EXPECT_TRUE(wait_until([&] { return f.server->in_flight() == 0; }));
  EXPECT_TRUE(wait_until(
      [&] { return f.registry.render().find("frugal_requests_total{outcome=\"cancelled\"} 1") != std::string::npos; }));
}

TEST(HttpServer, RequestTimeoutCancelsAndReturnsAnError) {
  HttpServerOptions options;
  options.request_timeout = std::chrono::milliseconds(200);
  ServerFixture f({}, options);
  f.engine.hold();
  auto res = f.post("/v1/completions", R"({"prompt": "a", "max_tokens": 2})");
  expect_api_error(res, 504);
  f.engine.release();
  EXPECT_TRUE(wait_until([&] { return f.engine.cancelled_count() == 1; }));
}

// OpenAI's `user` field as a metrics label only where the operator asked (serve --metrics-user):
// listed users get their own label, anyone else is "other", so clients cannot grow the label set.
TEST(HttpServer, UserMetricsLabelOnlyListedUsers) {
  HttpServerOptions options;
  options.metrics_users = {"alice"};
  ServerFixture f({}, options);
  for (const char* user : {"alice", "alice", "mallory-1", "mallory-2"}) {
    auto res = f.post("/v1/completions", json{{"prompt", "hi"}, {"max_tokens", 1}, {"user", user}}.dump());
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
  }
  ASSERT_EQ(f.post("/v1/completions", R"({"prompt": "hi", "max_tokens": 1})")->status, 200);
  const std::string metrics = f.client->Get("/metrics")->body;
  EXPECT_NE(metrics.find("frugal_user_requests_total{user=\"alice\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("frugal_user_requests_total{user=\"other\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("frugal_user_requests_total{user=\"none\"} 1"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("mallory"), std::string::npos) << "unlisted users are never labels";
  ServerFixture unasked;
  ASSERT_EQ(unasked.post("/v1/completions", R"({"prompt": "hi", "max_tokens": 1, "user": "alice"})")->status, 200);
  EXPECT_EQ(unasked.client->Get("/metrics")->body.find("frugal_user_requests_total"), std::string::npos);
}

TEST(HttpServer, MetricsEndpointCountsRequestsAndPassesPromtool) {
  ServerFixture f;
  ASSERT_EQ(f.post("/v1/completions", R"({"prompt": "a", "max_tokens": 3})")->status, 200);
  ASSERT_EQ(f.post("/v1/completions", R"({"prompt": "a", "max_tokens": -3})")->status, 400);
  auto res = f.client->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = res->body;
  EXPECT_NE(text.find("frugal_requests_total{outcome=\"length\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("frugal_requests_total{outcome=\"rejected\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("frugal_time_to_first_token_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(text.find("frugal_inter_token_latency_seconds_count 2\n"), std::string::npos) << "3 tokens, 2 gaps";
  EXPECT_NE(text.find("frugal_e2e_request_latency_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(text.find("frugal_kv_blocks_capacity 100\n"), std::string::npos) << "gauges refreshed at scrape";

  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    if (std::getenv("CI") != nullptr) FAIL() << "promtool is required in CI (apt-get install prometheus)";
    GTEST_SKIP() << "promtool not installed";
  }
  const std::string path = ::testing::TempDir() + "frugal_server_metrics.txt";
  std::ofstream(path) << text;
  const int rc = std::system(("promtool check metrics < " + path + " > " + path + ".out 2>&1").c_str());
  std::ifstream out_file(path + ".out");
  const std::string output((std::istreambuf_iterator<char>(out_file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << output;
  EXPECT_EQ(output, "");
}

}  // namespace
}  // namespace frugal
