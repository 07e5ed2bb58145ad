// `frugal audit verify`'s engine: each kind of tampering is found and named by kind and seq.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "trust/audit_record.h"
#include "trust/audit_verify.h"
#include "trust/audit_test_util.h"

namespace frugal::trust {
namespace {

using json = nlohmann::json;
using testing::read_lines;
using testing::write_lines;

// A closed log of 10 events with a checkpoint after every 4: lines 0..3 events, 4 cp, 5..8, 9 cp,
// 10..11 events, 12 cp (close).
class AuditTamper : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::fresh_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    options_ = testing::write_sample_log(dir_, 10, 4);
    lines_ = read_lines(options_.path);
    ASSERT_EQ(lines_.size(), 13u);
  }
  // Verifies the log without the anchor unless asked; the failure (fails the test when intact).
  AuditFailure failure_of(AuditVerifyOptions options = {.anchor_path = "-"}) {
    auto report = verify_audit_log(options_.path, options);
    EXPECT_TRUE(report.has_value());
    if (!report.has_value() || report->ok()) {
      ADD_FAILURE() << "tampering not detected";
      return AuditFailure{AuditFailureKind::kMalformed, -2, 0, ""};
    }
    return *report->failure;
  }
  // Changes one field of line i and re-seals it (a forger who recomputes that record's hash).
  void reseal(size_t i, const std::string& field, const json& value) {
    json r = json::parse(lines_[i]);
    r[field] = value;
    lines_[i] = seal_record(r);
  }
  // A forger's re-chaining: records from `first` on get the previous line's hash as prev (and a
  // checkpoint its head) and are re-sealed; no signature is redone.
  void rechain_from(size_t first) {
    for (size_t i = first; i < lines_.size(); ++i) {
      json r = json::parse(lines_[i]);
      r["prev"] = json::parse(lines_[i - 1])["hash"];
      if (r["kind"] == "checkpoint") r["head"] = r["prev"];
      lines_[i] = seal_record(r);
    }
  }

  std::string dir_;
  AuditLogOptions options_;
  std::vector<std::string> lines_;
};

TEST_F(AuditTamper, IntactLogVerifiesWithThePinnedKey) {
  auto key = PublicKey::load(dir_ + "/audit-signing-key.pem.pub");
  ASSERT_TRUE(key.has_value());
  auto report = verify_audit_log(options_.path, {.public_key = &*key});
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok()) << report->failure->detail;
  EXPECT_EQ(report->checkpoints, 3);
  EXPECT_EQ(report->unsigned_tail, 0);
}

TEST_F(AuditTamper, EditedFieldIsNamed) {
  json r = json::parse(lines_[6]);
  r["cost_usd"] = 0.0;  // the content changes, the stored hash does not
  lines_[6] = r.dump();
  write_lines(options_.path, lines_);
  const AuditFailure f = failure_of();
  EXPECT_EQ(f.kind, AuditFailureKind::kEdited);
  EXPECT_EQ(f.seq, 6);
  EXPECT_EQ(f.line, 7);
  EXPECT_STREQ(audit_failure_name(f.kind), "edited");
}

TEST_F(AuditTamper, EditedAndRehashedRecordIsNamedByTheBrokenLink) {
  reseal(2, "outcome", "failed");
  write_lines(options_.path, lines_);
  const AuditFailure f = failure_of();
  EXPECT_EQ(f.kind, AuditFailureKind::kEdited);
  EXPECT_EQ(f.seq, 2);
}

TEST_F(AuditTamper, RewrittenChainFailsTheNextCheckpointSignature) {
  // The forger edits record 1 and re-seals every record after it, checkpoint head included, but
  // cannot sign: the checkpoint's signature no longer covers its head.
  reseal(1, "outcome", "failed");
  rechain_from(2);
  write_lines(options_.path, lines_);
  const AuditFailure f = failure_of();
  EXPECT_EQ(f.kind, AuditFailureKind::kBadSignature);
  EXPECT_EQ(f.seq, 4);
}

TEST_F(AuditTamper, RemovedRecordIsNamed) {
  lines_.erase(lines_.begin() + 5);
  write_lines(options_.path, lines_);
  const AuditFailure f = failure_of();
  EXPECT_EQ(f.kind, AuditFailureKind::kRemoved);
  EXPECT_EQ(f.seq, 5);
  EXPECT_NE(f.detail.find("record 5 missing"), std::string::npos) << f.detail;
}

TEST_F(AuditTamper, InsertedRecordIsNamed) {
  // A forged record claiming seq 7, correctly linked to record 6 and correctly hashed.
  json forged = json::parse(lines_[7]);
  forged["request_id"] = "req_forged";
  forged["prev"] = json::parse(lines_[6])["hash"];
  lines_.insert(lines_.begin() + 7, seal_record(forged));
  write_lines(options_.path, lines_);
  const AuditFailure f = failure_of();
  EXPECT_EQ(f.kind, AuditFailureKind::kInserted);
  EXPECT_EQ(f.seq, 7);
  EXPECT_EQ(f.line, 9);  // the genuine record 7, now repeating a seq after the forged one
}

TEST_F(AuditTamper, DuplicatedRecordIsAnInsertion) {
  lines_.insert(lines_.begin() + 3, lines_[2]);
  write_lines(options_.path, lines_);
  const AuditFailure f = failure_of();
  EXPECT_EQ(f.kind, AuditFailureKind::kInserted);
  EXPECT_EQ(f.seq, 2);
}

TEST_F(AuditTamper, ReorderedRecordsAreNamed) {
  std::swap(lines_[2], lines_[3]);
  write_lines(options_.path, lines_);
  const AuditFailure f = failure_of();
  EXPECT_EQ(f.kind, AuditFailureKind::kReordered);
  EXPECT_EQ(f.seq, 2);
  EXPECT_EQ(f.line, 4);
}

TEST_F(AuditTamper, TruncationAfterACheckpointIsFoundThroughTheAnchor) {
  lines_.resize(10);  // drops records 10, 11 and the closing checkpoint 12 the anchor holds
  write_lines(options_.path, lines_);
  auto without_anchor = verify_audit_log(options_.path, {.anchor_path = "-"});
  ASSERT_TRUE(without_anchor.has_value());
  EXPECT_TRUE(without_anchor->ok()) << "a cut at a record boundary is invisible without the anchor";
  const AuditFailure f = failure_of({});  // <log>.head by default
  EXPECT_EQ(f.kind, AuditFailureKind::kTruncatedAfterCheckpoint);
  EXPECT_EQ(f.seq, 10);
  EXPECT_STREQ(audit_failure_name(f.kind), "truncated-after-checkpoint");
}

TEST_F(AuditTamper, AnchorCatchesARewrittenTail) {
  // Edit the last event and re-seal the closing checkpoint with a fresh key's signature... the
  // forger has no key, so they drop the checkpoint instead: the anchor proves it existed.
  lines_.resize(12);
  reseal(11, "outcome", "failed");
  write_lines(options_.path, lines_);
  const AuditFailure f = failure_of({});
  EXPECT_EQ(f.kind, AuditFailureKind::kTruncatedAfterCheckpoint);
}

TEST_F(AuditTamper, WrongPublicKeyIsABadSignature) {
  const std::string other_dir = testing::fresh_dir("otherkey");
  auto other = SigningKey::generate(other_dir + "/k.pem");
  ASSERT_TRUE(other.has_value()) << other.error().to_string();
  const AuditFailure f = failure_of({.public_key = &other->public_key(), .anchor_path = "-"});
  EXPECT_EQ(f.kind, AuditFailureKind::kBadSignature);
  EXPECT_EQ(f.seq, 4);
  EXPECT_STREQ(audit_failure_name(f.kind), "bad-signature");
}

TEST_F(AuditTamper, CheckpointSignedByAnotherKeyIsABadSignature) {
  // The forger re-signs checkpoint 9 with their own key (embedded in the record): without a pinned
  // key the verifier still sees the signer change from the first checkpoint's.
  const std::string other_dir = testing::fresh_dir("forgerkey");
  auto forger = SigningKey::generate(other_dir + "/k.pem");
  ASSERT_TRUE(forger.has_value());
  json r = json::parse(lines_[9]);
  r["public_key"] = forger->public_key().pem();
  r["signer"] = forger->public_key().fingerprint();
  r["signature"] = base64_encode(*forger->sign(checkpoint_message(9, r["head"])));
  lines_[9] = seal_record(r);
  rechain_from(10);  // and re-links everything after it
  write_lines(options_.path, lines_);
  const AuditFailure f = failure_of();
  EXPECT_EQ(f.kind, AuditFailureKind::kBadSignature);
  EXPECT_EQ(f.seq, 9);
}

TEST_F(AuditTamper, FlippedSignatureByteIsABadSignature) {
  json r = json::parse(lines_[4]);
  std::string sig = r["signature"];
  sig[3] = sig[3] == 'A' ? 'B' : 'A';
  r["signature"] = sig;
  lines_[4] = seal_record(r);
  rechain_from(5);
  write_lines(options_.path, lines_);
  const AuditFailure f = failure_of();
  EXPECT_EQ(f.kind, AuditFailureKind::kBadSignature);
  EXPECT_EQ(f.seq, 4);
}

TEST_F(AuditTamper, GarbageLineIsMalformed) {
  lines_[3] = "{\"not\": \"a record\"}";
  write_lines(options_.path, lines_);
  const AuditFailure f = failure_of();
  EXPECT_EQ(f.kind, AuditFailureKind::kMalformed);
  EXPECT_EQ(f.line, 4);
}

}  // namespace
}  // namespace frugal::trust
