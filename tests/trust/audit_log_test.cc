// The audit log writer: chaining, checkpoints, keys, restart, torn-tail recovery, refusal to extend
// a damaged chain.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "trust/audit_record.h"
#include "trust/audit_verify.h"
#include "trust/sha256.h"
#include "trust/audit_test_util.h"

namespace frugal::trust {
namespace {

using json = nlohmann::json;
using testing::fresh_dir;
using testing::read_lines;

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AuditRecord, ApiKeyIdNeverHoldsTheKey) {
  const std::string id = api_key_id("sk-secret-123");
  EXPECT_EQ(id.rfind("key_", 0), 0u);
  EXPECT_EQ(id.size(), 20u);
  EXPECT_EQ(id.find("secret"), std::string::npos);
  EXPECT_EQ(id, api_key_id("sk-secret-123"));
  EXPECT_NE(id, api_key_id("sk-secret-124"));
  EXPECT_EQ(api_key_id(""), "");
}

TEST(AuditLog, ChainsRecordsAndSignsCheckpoints) {
  const std::string dir = fresh_dir("chain");
  const AuditLogOptions options = testing::write_sample_log(dir, 7, 3);
  const std::vector<std::string> lines = read_lines(options.path);
  // 7 events, a checkpoint after every 3, and one at close: 3 + cp + 3 + cp + 1 + cp.
  ASSERT_EQ(lines.size(), 10u);
  std::string prev = kGenesisHash;
  int checkpoints = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const json r = json::parse(lines[i]);
    EXPECT_EQ(r["seq"].get<int64_t>(), static_cast<int64_t>(i));
    EXPECT_EQ(r["prev"], prev);
    EXPECT_EQ(r["hash"], record_hash(r));
    EXPECT_EQ(canonical_json(r), lines[i]) << "lines are stored canonically";
    prev = r["hash"];
    if (r["kind"] == "checkpoint") {
      ++checkpoints;
      EXPECT_EQ(r["count"].get<int64_t>(), static_cast<int64_t>(i));
    } else {
      EXPECT_EQ(r["prompt_sha256"].get<std::string>().size(), 64u);
      EXPECT_FALSE(r.contains("prompt")) << "prompts are stored only when the operator asks";
      EXPECT_EQ(r["checks"].size(), 2u);
    }
  }
  EXPECT_EQ(checkpoints, 3);
  EXPECT_EQ(json::parse(lines.back())["kind"], "checkpoint") << "close() signs the head";
  auto report = verify_audit_log(options.path, {});
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok()) << report->failure->detail;
  EXPECT_EQ(report->records, 10);
  EXPECT_EQ(report->checkpoints, 3);
  // The anchor is the last checkpoint line.
  EXPECT_EQ(testing::read_all(options.path + ".head"), lines.back() + "\n");
}

TEST(AuditLog, StoresPromptOnlyWhenAsked) {
  const std::string dir = fresh_dir("prompt");
  AuditLogOptions options;
  options.path = dir + "/audit.jsonl";
  options.store_prompts = true;
  auto log = AuditLog::open(options);
  ASSERT_TRUE(log.has_value()) << log.error().to_string();
  ASSERT_TRUE((*log)->record(testing::sample_event(4)).is_ok());
  const json r = json::parse(read_lines(options.path)[0]);
  EXPECT_EQ(r["prompt"], testing::sample_event(4).prompt);
  EXPECT_EQ(r["prompt_sha256"], sha256_hex(testing::sample_event(4).prompt));
  EXPECT_EQ(r["seed"].get<uint64_t>(), 1004u);
}

TEST(AuditLog, GeneratesAKeyOnFirstRunAndReusesIt) {
  const std::string dir = fresh_dir("keygen");
  AuditLogOptions options;
  options.path = dir + "/audit.jsonl";
  std::string fingerprint;
  {
    auto log = AuditLog::open(options);
    ASSERT_TRUE(log.has_value()) << log.error().to_string();
    EXPECT_TRUE((*log)->open_report().key_generated);
    EXPECT_EQ((*log)->open_report().key_path, dir + "/audit-signing-key.pem");
    fingerprint = (*log)->open_report().key_fingerprint;
  }
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/audit-signing-key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the private key is readable by its owner only";
  auto pub = PublicKey::load(dir + "/audit-signing-key.pem.pub");
  ASSERT_TRUE(pub.has_value()) << pub.error().to_string();
  EXPECT_EQ(pub->fingerprint(), fingerprint);
  auto again = AuditLog::open(options);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE((*again)->open_report().key_generated);
  EXPECT_EQ((*again)->open_report().key_fingerprint, fingerprint);
}

TEST(AuditLog, MalformedKeyFileIsAClearError) {
  const std::string dir = fresh_dir("badkey");
  AuditLogOptions options;
  options.path = dir + "/audit.jsonl";
  options.key_path = dir + "/key.pem";
  std::ofstream(options.key_path) << "-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n";
  auto log = AuditLog::open(options);
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(log.error().message().find(options.key_path), std::string::npos) << log.error().message();
  EXPECT_NE(log.error().message().find("not a PEM private key"), std::string::npos) << log.error().message();
  // An empty key file is malformed too, never silently replaced by a fresh key.
  std::ofstream(options.key_path, std::ios::trunc).flush();
  auto empty = AuditLog::open(options);
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), StatusCode::kInvalidArgument);
}

TEST(AuditLog, RestartContinuesTheChain) {
  const std::string dir = fresh_dir("restart");
  const AuditLogOptions options = testing::write_sample_log(dir, 3, 100);
  const size_t before = read_lines(options.path).size();  // 3 + the closing checkpoint
  {
    auto log = AuditLog::open(options);
    ASSERT_TRUE(log.has_value()) << log.error().to_string();
    EXPECT_EQ((*log)->open_report().next_seq, static_cast<int64_t>(before));
    ASSERT_TRUE((*log)->record(testing::sample_event(9)).is_ok());
  }
  const std::vector<std::string> lines = read_lines(options.path);
  ASSERT_EQ(lines.size(), before + 2);
  EXPECT_EQ(json::parse(lines[before])["prev"], json::parse(lines[before - 1])["hash"]);
  auto report = verify_audit_log(options.path, {});
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok()) << report->failure->detail;
}

TEST(AuditLog, TornTailIsCutRecordedAndTheChainContinues) {
  const std::string dir = fresh_dir("torn");
  const AuditLogOptions options = testing::write_sample_log(dir, 4, 100);
  const std::vector<std::string> whole = read_lines(options.path);
  std::string extra = whole[1];
  std::ofstream(options.path, std::ios::app | std::ios::binary) << extra.substr(0, extra.size() / 2);  // a cut write
  auto torn = verify_audit_log(options.path, {.anchor_path = "-"});
  ASSERT_TRUE(torn.has_value());
  ASSERT_FALSE(torn->ok());
  EXPECT_EQ(torn->failure->kind, AuditFailureKind::kTornTail);
  EXPECT_EQ(torn->failure->seq, static_cast<int64_t>(whole.size()));
  {
    auto log = AuditLog::open(options);
    ASSERT_TRUE(log.has_value()) << log.error().to_string();
    EXPECT_EQ((*log)->open_report().torn_bytes_cut, static_cast<int64_t>(extra.size() / 2));
    ASSERT_TRUE((*log)->record(testing::sample_event(5)).is_ok());
  }
  const std::vector<std::string> lines = read_lines(options.path);
  const json recovery = json::parse(lines[whole.size()]);
  EXPECT_EQ(recovery["kind"], "recovery");
  EXPECT_EQ(recovery["torn_bytes"].get<int64_t>(), static_cast<int64_t>(extra.size() / 2));
  auto report = verify_audit_log(options.path, {});
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok()) << report->failure->detail;
  bool noted = false;
  for (const std::string& note : report->notes) noted |= note.find("recovery") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(AuditLog, RefusesToExtendADamagedChain) {
  const std::string dir = fresh_dir("damaged");
  const AuditLogOptions options = testing::write_sample_log(dir, 3, 100);
  std::vector<std::string> lines = read_lines(options.path);
  json last = json::parse(lines.back());
  last["count"] = 99;  // edited, not re-hashed
  lines.back() = last.dump();
  testing::write_lines(options.path, lines);
  auto log = AuditLog::open(options);
  ASSERT_FALSE(log.has_value());
  EXPECT_EQ(log.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(log.error().message().find("frugal audit verify"), std::string::npos);
}

}  // namespace
}  // namespace frugal::trust
