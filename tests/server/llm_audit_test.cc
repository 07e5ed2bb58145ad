// The LLM routes write one audit record per request (server/llm_audit.h): key id not key, prompt and
// response hashes that match what was sent, tokens and cost, outcome; streams included.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/fake_engine.h"
#include "server/http_server.h"
#include "server/llm_audit.h"
#include "server/server_test_util.h"
#include "trust/audit_log.h"
#include "trust/audit_record.h"
#include "trust/audit_verify.h"
#include "trust/sha256.h"

namespace frugal {
namespace {

using json = nlohmann::json;

constexpr const char* kKey = "sk-audit-test-key-1234";

class AuditedServer {
 public:
  AuditedServer() : engine(testing::FakeEngineOptions{}) {
    dir = ::testing::TempDir() + "frugal_llm_audit_" + std::to_string(::getpid()) + "_" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    trust::AuditLogOptions audit_options;
    audit_options.path = dir + "/audit.jsonl";
    audit = std::move(*trust::AuditLog::open(audit_options));
    access = std::move(*AccessLog::open(dir + "/access.log"));  // the logger clears the note before a stream ends
    HttpServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.model_name = "test-model";
    options.api_keys = {kKey};
    options.access_log = access.get();
    options.audit = audit.get();
    server = std::make_unique<HttpServer>(engine, testing::test_tokenizer(), nullptr, options);
    EXPECT_TRUE(server->start_background().is_ok());
    client = std::make_unique<httplib::Client>("127.0.0.1", server->port());
    client->set_read_timeout(20, 0);
  }
  ~AuditedServer() { server->shutdown(std::chrono::milliseconds(0)); }

  httplib::Result post(const std::string& path, const std::string& body) {
    return client->Post(path.c_str(), {{"Authorization", std::string("Bearer ") + kKey}}, body, "application/json");
  }
  // The event records once `n` are there (a stream's record is written after its last byte).
  std::vector<json> records(size_t n) {
    std::vector<json> out;
    for (int attempt = 0; attempt < 200; ++attempt) {
      out.clear();
      std::ifstream file(dir + "/audit.jsonl");
      std::string line;
      while (std::getline(file, line)) {
        json r = json::parse(line);
        if (r["kind"] == "llm_request") out.push_back(std::move(r));
      }
      if (out.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return out;
  }

  std::string dir;
  std::unique_ptr<trust::AuditLog> audit;
  std::unique_ptr<AccessLog> access;
  testing::FakeEngine engine;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<httplib::Client> client;
};

TEST(LlmAudit, BearerToken) {
  EXPECT_EQ(bearer_token("Bearer abc"), "abc");
  EXPECT_EQ(bearer_token("Bearer  abc "), "abc");
  EXPECT_EQ(bearer_token("Basic abc"), "");
  EXPECT_EQ(bearer_token(""), "");
}

TEST(LlmAudit, ChatCompletionIsRecordedWithHashesTokensAndKeyId) {
  AuditedServer s;
  const json messages = json::array({{{"role", "user"}, {"content", "hello audit"}}});
  auto res = s.post("/v1/chat/completions",
                    json{{"model", "test-model"}, {"messages", messages}, {"max_tokens", 3}, {"seed", 42},
                         {"user", "end-user-7"}}.dump());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  const std::vector<json> records = s.records(1);
  ASSERT_EQ(records.size(), 1u);
  const json& r = records[0];
  EXPECT_EQ(r["request_id"], res->get_header_value("X-Request-Id"));
  EXPECT_EQ(r["endpoint"], "/v1/chat/completions");
  EXPECT_EQ(r["key_id"], trust::api_key_id(kKey));
  EXPECT_EQ(r.dump().find(kKey), std::string::npos) << "the key itself is never logged";
  EXPECT_EQ(r["prompt_sha256"], trust::sha256_hex(trust::canonical_json(json{{"messages", messages}})));
  EXPECT_FALSE(r.contains("prompt"));
  EXPECT_EQ(r["output_sha256"], trust::sha256_hex(res->body)) << "the hash of the body the client received";
  EXPECT_EQ(r["model"], "test-model");
  EXPECT_EQ(r["seed"], 42);
  EXPECT_EQ(r["user"], "end-user-7") << "OpenAI's end-user id is recorded";
  EXPECT_EQ(r["outcome"], "completed");
  EXPECT_EQ(r["prompt_tokens"], body["usage"]["prompt_tokens"]);
  EXPECT_EQ(r["completion_tokens"], 3);
  EXPECT_DOUBLE_EQ(r["cost_usd"].get<double>(), body["usage"]["cost_usd"].get<double>());
  bool key_check = false;
  for (const json& check : r["checks"]) key_check |= check["name"] == "api_key" && check["verdict"] == "pass";
  EXPECT_TRUE(key_check) << r["checks"].dump();
}

TEST(LlmAudit, StreamIsRecordedAfterItsLastByte) {
  AuditedServer s;
  auto res = s.post("/v1/completions",
                    R"({"model": "test-model", "prompt": "stream me", "max_tokens": 4, "stream": true})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const std::vector<json> records = s.records(1);
  ASSERT_EQ(records.size(), 1u);
  const json& r = records[0];
  EXPECT_EQ(r["outcome"], "completed");
  EXPECT_EQ(r["output_sha256"], trust::sha256_hex(res->body)) << "the SSE bytes as sent";
  EXPECT_EQ(r["completion_tokens"], 4) << "usage captured before the access logger cleared it";
  EXPECT_EQ(r["model"], "test-model");
}

TEST(LlmAudit, RejectedRequestsAreRecordedAndTheChainVerifies) {
  AuditedServer s;
  auto bad = s.post("/v1/chat/completions", "{not json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  auto unknown = s.post("/v1/responses", R"({"model": "nope", "input": "hi"})");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  const std::vector<json> records = s.records(2);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["outcome"], "rejected");
  EXPECT_EQ(records[0]["prompt_sha256"], trust::sha256_hex("{not json"));
  EXPECT_EQ(records[1]["outcome"], "rejected");
  EXPECT_EQ(records[1]["endpoint"], "/v1/responses");
  EXPECT_EQ(records[1]["model"], "nope");
  ASSERT_TRUE(s.audit->close().is_ok());
  auto report = trust::verify_audit_log(s.dir + "/audit.jsonl", {});
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok()) << report->failure->detail;
}

}  // namespace
}  // namespace frugal
