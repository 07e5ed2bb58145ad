// Verifying an audit log (trust layer): every record's hash, every link to the record before, the
// sequence numbers, every checkpoint's signature, and the log against its anchor (the last signed
// checkpoint, `<log>.head` or one copied elsewhere). The first failure is named by kind and seq.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "trust/signing_key.h"

namespace frugal::trust {

enum class AuditFailureKind {
  kEdited,                    // a record's content no longer matches its hash, or the next link
  kRemoved,                   // sequence numbers skip: records are missing
  kInserted,                  // a record repeats a sequence number already in the chain
  kReordered,                 // a record appears before one with a lower sequence number
  kTruncatedAfterCheckpoint,  // the log ends before a checkpoint the anchor proves was written
  kBadSignature,              // a checkpoint's signature fails (wrong key, or changed fields)
  kMalformed,                 // a line that is not a record
  kTornTail,                  // the last line is cut (a crash; the next open recovers it)
};
// "edited", "removed", "inserted", "reordered", "truncated-after-checkpoint", "bad-signature",
// "malformed", "torn-tail"
const char* audit_failure_name(AuditFailureKind kind);

struct AuditFailure {
  AuditFailureKind kind;
  int64_t seq = -1;   // the record's sequence number (-1: none readable)
  int64_t line = 0;   // 1-based line in the file
  std::string detail;
};

struct AuditVerifyOptions {
  const PublicKey* public_key = nullptr;  // null: the key embedded in the first checkpoint (noted)
  std::string anchor_path;                // "" → <log>.head when it exists; "-" → none
};

struct AuditVerifyReport {
  int64_t records = 0;       // whole records read
  int64_t checkpoints = 0;   // checkpoints whose signature verified
  int64_t unsigned_tail = 0; // records after the last checkpoint
  std::optional<AuditFailure> failure;  // the first failure; nullopt: the log is intact
  std::vector<std::string> notes;       // what the operator should know (key source, recoveries)
  bool ok() const { return !failure.has_value(); }
};

// kNotFound when the log cannot be read; every finding about its content is in the report.
Expected<AuditVerifyReport> verify_audit_log(const std::string& path, const AuditVerifyOptions& options);

}  // namespace frugal::trust
