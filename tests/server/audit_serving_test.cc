// The audit log end to end against `frugal serve`: on by default in the video state folder, a record
// per video job (with the MP4's SHA-256) and per LLM request, a signed checkpoint at shutdown,
// `frugal audit verify` passing (exit 0) and naming an edit (exit 1); a malformed key is a start-up
// error; and `frugal serve` killed with SIGKILL under LLM load leaves a chain that verifies and
// continues after a restart. Loopback only; every wait bounded.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/video_test_util.h"
#include "trust/sha256.h"

namespace frugal {
namespace {

using namespace video_test;

std::vector<json> audit_records(const std::string& path) {
  std::vector<json> records;
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    json r = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (r.is_object()) records.push_back(std::move(r));
  }
  return records;
}

testing::CommandResult audit_verify(const std::string& args) {
  return testing::run_command(testing::frugal_binary() + " audit verify " + args + " 2>&1");
}

class AuditServing : public video_test::VideoServerTest {};

TEST_F(AuditServing, VideoJobsAndLlmRequestsAreRecordedSignedAndVerified) {
  auto serve = serve_video(state_dir_);
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  EXPECT_NE(serve->log().find("generated Ed25519 key"), std::string::npos) << serve->log();
  const HttpResult created = create_video(port, "-F prompt='a lighthouse at dusk' -F seed=7");
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = created.body_json["id"];
  ASSERT_EQ(wait_until_done(port, id)["status"], "completed") << serve->log();
  const HttpResult mp4 = http(port, "", "/v1/videos/" + id + "/content");
  ASSERT_EQ(mp4.status, 200);
  const HttpResult chat = http(port, "-X POST -H 'Content-Type: application/json' --data-binary "
                                     "'{\"model\": \"small\", \"prompt\": \"hi\", \"max_tokens\": 2}'",
                               "/v1/completions");
  ASSERT_EQ(chat.status, 200) << chat.body;
  EXPECT_EQ(serve->stop(), 0) << serve->log();

  const std::string log_path = state_dir_ + "/audit.jsonl";
  const std::vector<json> records = audit_records(log_path);
  ASSERT_GE(records.size(), 3u);
  const json* video = nullptr;
  const json* llm = nullptr;
  for (const json& r : records) {
    if (r["kind"] == "video_job") video = &r;
    if (r["kind"] == "llm_request") llm = &r;
  }
  ASSERT_NE(video, nullptr);
  EXPECT_EQ((*video)["request_id"], id);
  EXPECT_EQ((*video)["outcome"], "completed");
  EXPECT_EQ((*video)["seed"], 7);
  EXPECT_EQ((*video)["tier"], "draft");
  EXPECT_EQ((*video)["prompt_sha256"], trust::sha256_hex("a lighthouse at dusk"));
  EXPECT_EQ((*video)["output_sha256"], trust::sha256_hex(mp4.body)) << "the MP4 the client downloaded";
  EXPECT_GT((*video)["cost_usd"].get<double>(), 0.0);
  ASSERT_NE(llm, nullptr);
  EXPECT_EQ((*llm)["model"], "small");
  EXPECT_EQ((*llm)["completion_tokens"], 2);
  EXPECT_EQ(records.back()["kind"], "checkpoint") << "a clean shutdown signs the head";

  const auto ok = audit_verify(log_path + " --pubkey " + state_dir_ + "/audit-signing-key.pem.pub");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("OK " + std::to_string(records.size()) + " records"), std::string::npos) << ok.output;

  // An edit: the video's cost changed in place.
  std::string text = testing::read_text_file(log_path);
  const size_t at = text.find("\"cost_usd\":");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 11, "\"cost_usd\":1");
  std::ofstream(log_path, std::ios::trunc) << text;
  const auto edited = audit_verify(log_path);
  EXPECT_EQ(edited.exit_code, 1) << edited.output;
  EXPECT_NE(edited.output.find("FAIL edited at seq 0"), std::string::npos) << edited.output;
}

TEST_F(AuditServing, MalformedKeyFileIsAStartUpError) {
  fs::create_directories(state_dir_);
  const std::string key = state_dir_ + "/bad.pem";
  std::ofstream(key) << "not a key\n";
  auto serve = serve_video(state_dir_, {"--audit-key", key});
  EXPECT_EQ(serve->wait_for_port(), 0) << "the server must not start";
  EXPECT_NE(serve->stop(), 0);
  EXPECT_NE(serve->log().find("not a PEM private key"), std::string::npos) << serve->log();
  auto missing = testing::ServeProcess({"--audit-log", state_dir_ + "/a.jsonl", "--audit-key", state_dir_ + "/none.pem"});
  EXPECT_EQ(missing.wait_for_port(), 0);
  EXPECT_NE(missing.log().find("none.pem"), std::string::npos) << missing.log();
}

TEST_F(AuditServing, ServeKilledUnderLoadLeavesAnIntactChainThatContinues) {
  fs::create_directories(state_dir_);
  const std::string log_path = state_dir_ + "/llm-audit.jsonl";
  const std::vector<std::string> args = {"--audit-log", log_path, "--audit-checkpoint-every", "5"};
  size_t before_kill = 0;
  {
    testing::ServeProcess serve(args);
    const int port = serve.wait_for_port();
    ASSERT_GT(port, 0) << serve.log();
    // Four clients in a loop (bounded: 60 requests each), killed with the server.
    const std::string request = "curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary "
                                "'{\"model\": \"small\", \"prompt\": \"load\", \"max_tokens\": 2}' "
                                "http://127.0.0.1:" + std::to_string(port) + "/v1/completions";
    const std::string loop = "for i in $(seq 60); do " + request + " || break; done";
    testing::run_command("(" + loop + ") >/dev/null 2>&1 & (" + loop + ") >/dev/null 2>&1 & (" + loop +
                         ") >/dev/null 2>&1 & (" + loop + ") >/dev/null 2>&1 &");
    for (int wait = 0; wait < 400 && audit_records(log_path).size() < 12; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    serve.kill_hard();
    before_kill = audit_records(log_path).size();
    ASSERT_GE(before_kill, 12u) << serve.log();
  }
  const auto after_kill = audit_verify(log_path + " --anchor -");
  EXPECT_TRUE(after_kill.exit_code == 0 || after_kill.output.find("FAIL torn-tail") != std::string::npos)
      << after_kill.output;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the clients' last requests fail and they stop
  {
    testing::ServeProcess serve(args);
    const int port = serve.wait_for_port();
    ASSERT_GT(port, 0) << serve.log();
    EXPECT_NE(serve.log().find("from record"), std::string::npos);
    const HttpResult r = http(port, "-X POST -H 'Content-Type: application/json' --data-binary "
                                    "'{\"model\": \"small\", \"prompt\": \"after\", \"max_tokens\": 1}'",
                              "/v1/completions");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(serve.stop(), 0) << serve.log();
  }
  const std::vector<json> records = audit_records(log_path);
  EXPECT_GT(records.size(), before_kill);
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i]["seq"], i);
  const auto verified = audit_verify(log_path);
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

}  // namespace
}  // namespace frugal
