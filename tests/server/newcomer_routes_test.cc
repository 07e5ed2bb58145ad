// /v1/embeddings, /v1/responses, the access log and the model's recommended sampling settings,
// against `frugal serve` on the small test model (a child process on a free loopback port).
#include <httplib.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/serve_process.h"
#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal {
namespace {

using json = nlohmann::json;
using testing::ServeProcess;

std::vector<float> decode_base64_floats(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  std::vector<uint8_t> bytes;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = value(c);
    if (v < 0) continue;  // '=' padding
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<uint8_t>((buffer >> bits) & 0xff));
    }
  }
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

class NewcomerRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    log_path_ = ::testing::TempDir() + "frugal_access_" + std::to_string(::getpid()) + ".jsonl";
    std::filesystem::remove(log_path_);
    server_ = std::make_unique<ServeProcess>(
        std::vector<std::string>{"--access-log", log_path_, "--price-per-hour", "3.6"});
    const int port = server_->wait_for_port();
    ASSERT_GT(port, 0) << server_->log();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port);
    client_->set_read_timeout(60, 0);
  }
  json post(const std::string& path, const json& body, int expect_status = 200) {
    auto res = client_->Post(path, body.dump(), "application/json");
    EXPECT_TRUE(res);
    if (!res) return json();
    EXPECT_EQ(res->status, expect_status) << res->body;
    return json::parse(res->body, nullptr, false);
  }
  std::string log_path_;
  std::unique_ptr<ServeProcess> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(NewcomerRoutes, EmbeddingsAreUnitVectorsConsistentAcrossEncodingsAndBatches) {
  const json one = post("/v1/embeddings", {{"model", "small"}, {"input", "Once upon a time"}});
  ASSERT_EQ(one["object"], "list");
  ASSERT_EQ(one["data"].size(), 1u);
  const std::vector<float> a = one["data"][0]["embedding"].get<std::vector<float>>();
  ASSERT_EQ(a.size(), 256u);  // small-q8_0's n_embd
  double norm = 0;
  for (float v : a) norm += double(v) * v;
  EXPECT_NEAR(norm, 1.0, 1e-4);
  EXPECT_GT(one["usage"]["prompt_tokens"].get<int>(), 1);
  EXPECT_EQ(one["usage"]["total_tokens"], one["usage"]["prompt_tokens"]);

  const json batch = post("/v1/embeddings", {{"model", "small"},
                                             {"input", {"Once upon a time", "A completely different text"}},
                                             {"encoding_format", "base64"}});
  ASSERT_EQ(batch["data"].size(), 2u);
  EXPECT_EQ(batch["data"][1]["index"], 1);
  const std::vector<float> a64 = decode_base64_floats(batch["data"][0]["embedding"].get<std::string>());
  const std::vector<float> b64 = decode_base64_floats(batch["data"][1]["embedding"].get<std::string>());
  ASSERT_EQ(a64.size(), a.size());
  double max_diff = 0, dot = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(double(a[i]) - a64[i]));
    dot += double(a64[i]) * b64[i];
  }
  EXPECT_LT(max_diff, 1e-6) << "the same text embeds the same, alone or in a batch, float or base64";
  EXPECT_LT(dot, 0.9999) << "different texts embed differently";
}

TEST_F(NewcomerRoutes, EmbeddingsRejectBadInputsWithOpenAIErrors) {
  EXPECT_EQ(post("/v1/embeddings", {{"model", "small"}}, 400)["error"]["param"], "input");
  EXPECT_EQ(post("/v1/embeddings", {{"model", "small"}, {"input", json::array()}}, 400)["error"]["param"], "input");
  EXPECT_EQ(post("/v1/embeddings", {{"model", "small"}, {"input", "x"}, {"encoding_format", "int8"}}, 400)["error"]["param"],
            "encoding_format");
  EXPECT_EQ(post("/v1/embeddings", {{"model", "small"}, {"input", {1, 2, 99999}}}, 400)["error"]["type"],
            "invalid_request_error");
  EXPECT_EQ(post("/v1/embeddings", {{"model", "small"}, {"input", std::vector<int>(600, 5)}}, 400)["error"]["param"],
            "input");
  EXPECT_EQ(post("/v1/embeddings", {{"model", "nope"}, {"input", "x"}}, 404)["error"]["code"], "model_not_found");
  // Every field is honoured or refused: an unknown one is a 400 naming it, `user` is checked.
  const json unknown = post("/v1/embeddings", {{"model", "small"}, {"input", "x"}, {"truncate", true}}, 400);
  EXPECT_EQ(unknown["error"]["param"], "truncate");
  EXPECT_NE(unknown["error"]["message"].get<std::string>().find("unknown field 'truncate'"), std::string::npos);
  EXPECT_EQ(post("/v1/embeddings", {{"model", "small"}, {"input", "x"}, {"user", 7}}, 400)["error"]["param"], "user");
  EXPECT_EQ(post("/v1/embeddings", {{"model", "small"}, {"input", "x"}, {"user", std::string(300, 'u')}}, 400)["error"]["param"],
            "user");
  EXPECT_EQ(post("/v1/embeddings", {{"model", "small"}, {"input", "x"}, {"user", "end-user-1"}})["object"], "list");
}

TEST_F(NewcomerRoutes, ResponsesNonStreamingAndStreamingAgree) {
  const json request{{"model", "small"}, {"input", "Once upon a time"}, {"instructions", "Be brief."},
                     {"max_output_tokens", 8}, {"temperature", 0}};
  const json full = post("/v1/responses", request);
  ASSERT_EQ(full["object"], "response");
  EXPECT_TRUE(full["status"] == "completed" || full["status"] == "incomplete");
  ASSERT_EQ(full["output"].size(), 1u);
  EXPECT_EQ(full["output"][0]["role"], "assistant");
  const std::string text = full["output"][0]["content"][0]["text"];
  EXPECT_GT(full["usage"]["input_tokens"].get<int>(), 0);
  EXPECT_LE(full["usage"]["output_tokens"].get<int>(), 8);
  EXPECT_GT(full["usage"]["cost_usd"].get<double>(), 0.0);
  EXPECT_EQ(full["usage"]["price_source"], "--price-per-hour");

  json streamed = request;
  streamed["stream"] = true;
  auto res = client_->Post("/v1/responses", streamed.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  std::vector<std::string> types;
  std::string deltas;
  json completed;
  std::istringstream lines(res->body);
  std::string line;
  int64_t expect_sequence = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("data: ", 0) != 0) continue;
    const json event = json::parse(line.substr(6));
    EXPECT_EQ(event["sequence_number"], expect_sequence++);
    types.push_back(event["type"]);
    if (event["type"] == "response.output_text.delta") deltas += event["delta"].get<std::string>();
    if (event["type"] == "response.completed" || event["type"] == "response.incomplete") completed = event["response"];
  }
  ASSERT_GE(types.size(), 8u) << res->body;
  EXPECT_EQ(types[0], "response.created");
  EXPECT_EQ(types[1], "response.in_progress");
  EXPECT_EQ(types[2], "response.output_item.added");
  EXPECT_EQ(types[3], "response.content_part.added");
  EXPECT_EQ(types[types.size() - 4], "response.output_text.done");
  EXPECT_EQ(types[types.size() - 3], "response.content_part.done");
  EXPECT_EQ(types[types.size() - 2], "response.output_item.done");
  EXPECT_EQ(deltas, text) << "greedy: the stream's deltas spell the non-streaming text";
  ASSERT_TRUE(completed.is_object());
  EXPECT_EQ(completed["output"][0]["content"][0]["text"], text);
  EXPECT_EQ(completed["usage"]["output_tokens"], full["usage"]["output_tokens"]);
}

TEST_F(NewcomerRoutes, ResponsesRejectWhatTheyDoNotSupport) {
  EXPECT_EQ(post("/v1/responses", {{"model", "small"}}, 400)["error"]["param"], "input");
  EXPECT_EQ(post("/v1/responses", {{"model", "small"}, {"input", "x"}, {"tools", {{{"type", "function"}}}}}, 400)["error"]["param"],
            "tools");
  const json image_part{{"role", "user"}, {"content", {{{"type", "input_image"}, {"image_url", "http://x"}}}}};
  EXPECT_EQ(post("/v1/responses", {{"model", "small"}, {"input", {image_part}}}, 400)["error"]["param"],
            "input[0].content");
  EXPECT_EQ(post("/v1/responses", {{"model", "small"}, {"input", "x"}, {"max_output_tokens", 100000}}, 400)["error"]["param"],
            "max_output_tokens");
  // Unknown fields, and known ones asking for what frugal does not do, are 400s naming them.
  EXPECT_EQ(post("/v1/responses", {{"model", "small"}, {"input", "x"}, {"temprature", 0}}, 400)["error"]["param"],
            "temprature");
  for (const auto& [key, value] : std::vector<std::pair<std::string, json>>{
           {"store", true}, {"background", true}, {"truncation", "auto"}, {"include", {"reasoning.encrypted_content"}},
           {"top_logprobs", 3}, {"service_tier", "flex"}}) {
    const json error = post("/v1/responses", {{"model", "small"}, {"input", "x"}, {key, value}}, 400);
    EXPECT_EQ(error["error"]["param"], key) << error.dump();
  }
  EXPECT_EQ(post("/v1/responses", {{"model", "small"}, {"input", "x"}, {"text", {{"format", {{"type", "grammar"}}}}}}, 400)
                ["error"]["param"], "text.format.type");
  EXPECT_EQ(post("/v1/responses", {{"model", "small"}, {"input", "x"}, {"user", 3}}, 400)["error"]["param"], "user");
  // Their "nothing" values (what OpenAI clients may send by default) are accepted.
  const json ok = post("/v1/responses", {{"model", "small"}, {"input", "x"}, {"max_output_tokens", 2}, {"store", false},
                                         {"truncation", "disabled"}, {"parallel_tool_calls", true}, {"include", json::array()},
                                         {"metadata", {{"ticket", "7"}}}, {"user", "end-user-1"},
                                         {"text", {{"format", {{"type", "text"}}}}}});
  EXPECT_EQ(ok["object"], "response") << ok.dump();
  EXPECT_EQ(ok["metadata"]["ticket"], "7");
}

// serve --metrics-user: the listed end user gets a label; others count as "other".
TEST(ServeFlags, MetricsUserLabelsOnlyTheListedUsers) {
  ServeProcess serve({"--metrics-user", "alice"});
  const int port = serve.wait_for_port();
  ASSERT_GT(port, 0) << serve.log();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  for (const char* user : {"alice", "bob"}) {
    const json body{{"model", "small"}, {"prompt", "Hi"}, {"max_tokens", 1}, {"user", user}};
    auto res = client.Post("/v1/completions", body.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
  }
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("frugal_user_requests_total{user=\"alice\"} 1"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("frugal_user_requests_total{user=\"other\"} 1"), std::string::npos);
  EXPECT_EQ(metrics->body.find("bob"), std::string::npos);
}

TEST_F(NewcomerRoutes, AccessLogHasOneJsonLinePerRequest) {
  post("/v1/chat/completions", {{"model", "small"}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 4}});
  json stream_body{{"model", "small"}, {"prompt", "Hi"}, {"max_tokens", 3}, {"stream", true}};
  // As a proxy in front sends it (deploy/nginx/frugal.conf): the id and the client are logged.
  const httplib::Headers proxied{{"X-Request-Id", "req-7f3a"}, {"X-Forwarded-For", "203.0.113.9"}};
  auto streamed = client_->Post("/v1/completions", proxied, stream_body.dump(), "application/json");
  ASSERT_TRUE(streamed);
  ASSERT_TRUE(client_->Get("/health"));
  post("/v1/chat/completions", {{"model", "nope"}}, 400);
  // The logger runs after the response is written: wait (bounded) for three lines. /health is
  // answered by the front end's event loop (server/http_gate.h), before any worker: probes are not
  // access-logged (a liveness probe every few seconds would flood the log).
  std::vector<json> entries;
  for (int attempt = 0; attempt < 100 && entries.size() < 3; ++attempt) {
    entries.clear();
    std::ifstream in(log_path_);
    std::string line;
    while (std::getline(in, line)) entries.push_back(json::parse(line));
    if (entries.size() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a fourth line would be a logged probe
  entries.clear();
  std::ifstream again(log_path_);
  for (std::string line; std::getline(again, line);) entries.push_back(json::parse(line));
  ASSERT_EQ(entries.size(), 3u);
  // Each line is written when its request's handler ends: the stream's can land after the next
  // request's, so the lines are told apart by what they are, not by their order.
  auto find_entry = [&entries](const std::string& path, int status) {
    for (const json& entry : entries) {
      if (entry["path"] == path && entry["status"] == status) return entry;
    }
    return json();
  };
  const json chat = find_entry("/v1/chat/completions", 200), stream = find_entry("/v1/completions", 200),
             refused = find_entry("/v1/chat/completions", 400);
  ASSERT_FALSE(chat.is_null() || stream.is_null() || refused.is_null()) << json(entries).dump();
  for (const char* key : {"time", "method", "path", "status", "latency_ms", "bytes", "model", "prompt_tokens",
                          "completion_tokens", "cost_usd", "client"}) {
    EXPECT_TRUE(chat.contains(key)) << key;
  }
  EXPECT_EQ(chat["method"], "POST");
  EXPECT_EQ(chat["model"], "small");
  EXPECT_LE(chat["completion_tokens"].get<int>(), 4);
  EXPECT_GT(chat["cost_usd"].get<double>(), 0.0);
  EXPECT_GT(chat["latency_ms"].get<double>(), 0.0);
  EXPECT_GT(chat["bytes"].get<int>(), 0);
  EXPECT_EQ(chat["client"].get<std::string>().rfind("127.0.0.1:", 0), 0u);
  // a stream: tokens and streamed bytes still counted
  EXPECT_EQ(stream["completion_tokens"], 3);
  EXPECT_EQ(stream["bytes"].get<size_t>(), streamed->body.size());
  EXPECT_EQ(stream["request_id"], "req-7f3a");
  EXPECT_EQ(stream["forwarded_for"], "203.0.113.9");
  EXPECT_FALSE(chat.contains("request_id") || chat.contains("forwarded_for")) << chat.dump();  // not sent: not logged
  EXPECT_TRUE(refused["model"].is_null() || refused["model"] == "nope");
}

// A model whose GGUF carries general.sampling.* (written by `frugal gguf-set`): a request that
// leaves max_tokens out gets the model's; one that sends it keeps its own.
TEST(ModelSamplingDefaults, ApplyWhereTheRequestLeavesThemOut) {
  const std::string model = ::testing::TempDir() + "small-with-defaults.gguf";
  const auto set = testing::run_command(testing::frugal_binary() + " gguf-set " + testing::data_path("models/small-q8_0.gguf") +
                                        " -o " + model + " general.sampling.temp=0 general.sampling.top_k=1 " +
                                        "frugal.sampling.max_tokens=5 2>&1");
  ASSERT_EQ(set.exit_code, 0) << set.output;
  ServeProcess server({}, model);
  const int port = server.wait_for_port();
  ASSERT_GT(port, 0) << server.log();
  EXPECT_NE(server.log().find("temp 0, top_k 1, max_tokens 5"), std::string::npos) << server.log();
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60, 0);
  const json body{{"model", "small"}, {"prompt", "Once upon a time"}, {"ignore_eos", true}};
  auto res = client.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(res);
  const json answer = json::parse(res->body);
  EXPECT_EQ(answer["usage"]["completion_tokens"], 5) << res->body;
  // temp 0 from the model: two requests agree without a seed.
  auto again = client.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(json::parse(again->body)["choices"][0]["text"], answer["choices"][0]["text"]);
  json own = body;
  own["max_tokens"] = 2;
  auto capped = client.Post("/v1/completions", own.dump(), "application/json");
  ASSERT_TRUE(capped);
  EXPECT_EQ(json::parse(capped->body)["usage"]["completion_tokens"], 2);
}

TEST(ModelSamplingDefaults, GgufSetRejectsValuesTheSamplerWouldRefuse) {
  const std::string out = ::testing::TempDir() + "bad-defaults.gguf";
  const std::string base = testing::frugal_binary() + " gguf-set " + testing::data_path("models/small-q8_0.gguf") + " -o " + out;
  for (const char* bad : {"general.sampling.top_p=1.5", "general.sampling.temp=abc", "general.sampling.top_k=-3",
                          "no.type.given=1", "x:f99=1"}) {
    const auto result = testing::run_command(base + " " + bad + " 2>&1");
    EXPECT_NE(result.exit_code, 0) << bad;
    EXPECT_NE(result.output.find("error"), std::string::npos) << result.output;
  }
}

}  // namespace
}  // namespace frugal
