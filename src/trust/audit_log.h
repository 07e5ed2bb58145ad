// AuditLog: the append-only, hash-chained audit log file (trust layer), an AuditSink. Each record
// is one canonical JSON line chained to the one before (trust/audit_record.h); every
// `checkpoint_every` records and at close() a signed checkpoint record states the chain head and
// count, and the same line is written atomically to `<log>.head`, the anchor to copy off the
// machine (docs/design/trust-audit-log.md).
//
// Durability: a record is written with one write(2) of the whole line and fdatasync'd before
// record() returns, so an acknowledged record survives kill -9 and power loss. On open, a torn
// last line (bytes after the last newline: a write cut by a crash) is cut off, logged, and
// recorded in a "recovery" record; the chain continues from the last whole record. A last whole
// record whose hash does not match is refused (kDataLoss): frugal never appends to a broken chain.
// Threading contract: record() and checkpoint() are safe from any thread; close() once.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/expected.h"
#include "trust/audit_sink.h"
#include "trust/signing_key.h"

namespace frugal::trust {

struct AuditLogOptions {
  std::string path;                 // the log file (created if absent; its folder must exist)
  std::string key_path;             // "" → <log folder>/audit-signing-key.pem
  bool generate_key = true;         // absent key file: make an Ed25519 key there (and say so)
  int64_t checkpoint_every = 256;   // records between signed checkpoints (>= 1)
  bool store_prompts = false;       // store prompt text, not only its SHA-256
};

// What open() found and did, for the operator's start-up line.
struct AuditOpenReport {
  int64_t next_seq = 0;             // records already in the log
  bool key_generated = false;
  std::string key_path;
  std::string key_fingerprint;
  int64_t torn_bytes_cut = 0;       // > 0: a torn tail was cut and a recovery record appended
};

class AuditLog final : public AuditSink {
 public:
  // Errors: kInvalidArgument (malformed key file, bad options), kDataLoss (the last whole record is
  // damaged), kUnavailable (cannot open/write), all naming the path.
  static Expected<std::unique_ptr<AuditLog>> open(const AuditLogOptions& options);
  ~AuditLog() override;
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  Status record(const AuditEvent& event) override;
  // Appends a record body (kind and fields; seq/time/prev/hash are added). For tests and tools.
  Status append(nlohmann::json body);
  // Writes a signed checkpoint now (and the anchor file).
  Status checkpoint();
  // A final checkpoint when records were added since the last one; then the file is closed.
  Status close();

  const AuditOpenReport& open_report() const { return report_; }
  int64_t next_seq() const;
  const std::string& path() const { return options_.path; }

 private:
  AuditLog(AuditLogOptions options, SigningKey key) : options_(std::move(options)), key_(std::move(key)) {}
  Status recover_tail();
  // sealed_line: set to the line written (with its newline).
  Status append_locked(nlohmann::json body, std::string* sealed_line = nullptr);
  Status checkpoint_locked();
  Status write_anchor(const std::string& line);

  AuditLogOptions options_;
  SigningKey key_;
  AuditOpenReport report_;
  mutable std::mutex mutex_;
  int fd_ = -1;
  int64_t size_bytes_ = 0;          // the file's length: where the next line starts
  int64_t next_seq_ = 0;
  std::string head_;                // the last record's hash (kGenesisHash when empty)
  int64_t since_checkpoint_ = 0;    // records since the last checkpoint (or open)
};

}  // namespace frugal::trust
