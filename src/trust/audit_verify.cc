#include "trust/audit_verify.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "trust/audit_record.h"

namespace frugal::trust {
namespace {

using json = nlohmann::json;

struct Line {
  json record;
  int64_t seq = -1;
  std::string hash, prev;
  bool hash_ok = false;  // the stored hash is the hash of the content
  int64_t line_no = 0;
};

AuditFailure failure(AuditFailureKind kind, int64_t seq, int64_t line_no, std::string detail) {
  return AuditFailure{kind, seq, line_no, std::move(detail)};
}

// A record's minimum shape: seq (unsigned), prev and hash (strings), kind (string).
bool has_record_shape(const json& r) {
  return r.is_object() && r.contains("seq") && r["seq"].is_number_unsigned() && r.contains("prev") &&
         r["prev"].is_string() && r.contains("hash") && r["hash"].is_string() && r.contains("kind") &&
         r["kind"].is_string();
}

// Reads the lines; a line that is not a record ends the read with a failure.
std::optional<AuditFailure> read_lines(const std::string& text, std::vector<Line>& lines) {
  size_t start = 0;
  int64_t line_no = 0;
  while (start < text.size()) {
    ++line_no;
    const size_t nl = text.find('\n', start);
    const bool torn = nl == std::string::npos;
    const std::string raw = text.substr(start, torn ? std::string::npos : nl - start);
    start = torn ? text.size() : nl + 1;
    const json record = json::parse(raw, nullptr, /*allow_exceptions=*/false);
    const int64_t expected = lines.empty() ? 0 : lines.back().seq + 1;
    if (torn) {
      return failure(AuditFailureKind::kTornTail, expected, line_no,
                     "the last line is cut (" + std::to_string(raw.size()) +
                         " bytes, no newline): a write interrupted by a crash; opening the log to append cuts it");
    }
    if (!has_record_shape(record)) {
      return failure(AuditFailureKind::kMalformed, -1, line_no, "not an audit record");
    }
    Line line;
    line.record = record;
    line.seq = record["seq"].get<int64_t>();
    line.hash = record["hash"].get<std::string>();
    line.prev = record["prev"].get<std::string>();
    line.hash_ok = record_hash(record) == line.hash;
    line.line_no = line_no;
    lines.push_back(std::move(line));
  }
  return std::nullopt;
}

// The chain: hashes, links and sequence numbers, in file order.
std::optional<AuditFailure> check_chain(const std::vector<Line>& lines) {
  std::multimap<int64_t, size_t> by_seq;
  for (size_t i = 0; i < lines.size(); ++i) by_seq.emplace(lines[i].seq, i);
  int64_t expected = 0;
  std::string prev_hash = kGenesisHash;
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& l = lines[i];
    const std::string at = "record " + std::to_string(l.seq) + " (line " + std::to_string(l.line_no) + ")";
    if (!l.hash_ok) {
      return failure(AuditFailureKind::kEdited, l.seq, l.line_no, at + ": its content does not match its hash");
    }
    if (l.seq > expected) {
      for (auto [it, end] = by_seq.equal_range(expected); it != end; ++it) {
        if (it->second > i) {
          return failure(AuditFailureKind::kReordered, expected, lines[it->second].line_no,
                         "record " + std::to_string(expected) + " is at line " +
                             std::to_string(lines[it->second].line_no) + ", after " + at);
        }
      }
      const std::string missing = l.seq - expected == 1 ? "record " + std::to_string(expected)
                                                        : "records " + std::to_string(expected) + ".." +
                                                              std::to_string(l.seq - 1);
      return failure(AuditFailureKind::kRemoved, expected, l.line_no, missing + " missing before " + at);
    }
    if (l.seq < expected) {
      return failure(AuditFailureKind::kInserted, l.seq, l.line_no,
                     at + " repeats sequence number " + std::to_string(l.seq) + " after record " +
                         std::to_string(expected - 1));
    }
    if (l.prev != prev_hash) {
      if (i == 0) {
        return failure(AuditFailureKind::kEdited, l.seq, l.line_no, at + ": the first record does not start the chain");
      }
      // The record before was changed and re-hashed (or replaced): this one links to its old hash.
      const Line& before = lines[i - 1];
      return failure(AuditFailureKind::kEdited, before.seq, before.line_no,
                     "record " + std::to_string(before.seq) + " (line " + std::to_string(before.line_no) +
                         ") was changed: record " + std::to_string(l.seq) + " links to a different hash");
    }
    prev_hash = l.hash;
    ++expected;
  }
  return std::nullopt;
}

// A checkpoint record's own fields and signature, against `key` (or its embedded key).
std::optional<AuditFailure> check_checkpoint(const Line& l, const PublicKey* key, std::string& first_signer,
                                             AuditVerifyReport& report) {
  const json& r = l.record;
  const std::string at = "checkpoint " + std::to_string(l.seq) + " (line " + std::to_string(l.line_no) + ")";
  auto bad = [&](const std::string& why) {
    return failure(AuditFailureKind::kBadSignature, l.seq, l.line_no, at + ": " + why);
  };
  if (!r.contains("count") || !r["count"].is_number_integer() || !r.contains("head") || !r["head"].is_string() ||
      !r.contains("signature") || !r["signature"].is_string()) {
    return bad("count, head or signature missing");
  }
  if (r["count"].get<int64_t>() != l.seq || r["head"].get<std::string>() != l.prev) {
    return failure(AuditFailureKind::kEdited, l.seq, l.line_no, at + ": its count/head are not the chain's");
  }
  std::optional<PublicKey> embedded;
  if (key == nullptr) {
    auto parsed = PublicKey::from_pem(r.value("public_key", std::string()), at + " public_key");
    if (!parsed) return bad(parsed.error().message());
    if (first_signer.empty()) first_signer = parsed->fingerprint();
    if (parsed->fingerprint() != first_signer) return bad("signed by key " + parsed->fingerprint() + ", not " + first_signer);
    embedded = std::move(*parsed);
    key = &*embedded;
  }
  auto signature = base64_decode(r["signature"].get<std::string>());
  if (!signature || !key->verify(checkpoint_message(l.seq, l.prev), *signature)) {
    return bad("the signature does not verify with key " + key->fingerprint());
  }
  ++report.checkpoints;
  return std::nullopt;
}

// The anchor: a signed checkpoint line kept beside (or away from) the log. The log must still hold it.
std::optional<AuditFailure> check_anchor(const std::string& anchor_path, const std::vector<Line>& lines,
                                         const PublicKey* key, std::string& first_signer, AuditVerifyReport& report) {
  std::ifstream file(anchor_path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (!text.empty() && text.back() == '\n') text.pop_back();
  std::vector<Line> anchor;
  if (read_lines(text + "\n", anchor) || anchor.size() != 1 || !anchor[0].hash_ok ||
      anchor[0].record["kind"] != "checkpoint") {
    return failure(AuditFailureKind::kMalformed, -1, 0, "anchor " + anchor_path + " is not a checkpoint record");
  }
  const Line& a = anchor[0];
  AuditVerifyReport scratch;
  if (auto bad = check_checkpoint(a, key, first_signer, scratch)) {
    bad->detail = "anchor " + anchor_path + ": " + bad->detail;
    return bad;
  }
  const int64_t last_seq = lines.empty() ? -1 : lines.back().seq;
  if (a.seq > last_seq) {
    return failure(AuditFailureKind::kTruncatedAfterCheckpoint, last_seq + 1, static_cast<int64_t>(lines.size()) + 1,
                   "the log ends at record " + std::to_string(last_seq) + " but anchor " + anchor_path +
                       " holds a signed checkpoint at record " + std::to_string(a.seq));
  }
  const Line& held = lines[static_cast<size_t>(a.seq)];
  if (held.hash != a.hash) {
    return failure(AuditFailureKind::kEdited, a.seq, held.line_no,
                   "checkpoint " + std::to_string(a.seq) + " differs from anchor " + anchor_path +
                       ": the chain up to it was rewritten");
  }
  report.notes.push_back("anchor " + anchor_path + ": checkpoint at record " + std::to_string(a.seq) + " matches");
  return std::nullopt;
}

}  // namespace

const char* audit_failure_name(AuditFailureKind kind) {
  switch (kind) {
    case AuditFailureKind::kEdited: return "edited";
    case AuditFailureKind::kRemoved: return "removed";
    case AuditFailureKind::kInserted: return "inserted";
    case AuditFailureKind::kReordered: return "reordered";
    case AuditFailureKind::kTruncatedAfterCheckpoint: return "truncated-after-checkpoint";
    case AuditFailureKind::kBadSignature: return "bad-signature";
    case AuditFailureKind::kMalformed: return "malformed";
    case AuditFailureKind::kTornTail: return "torn-tail";
  }
  return "unknown";
}

Expected<AuditVerifyReport> verify_audit_log(const std::string& path, const AuditVerifyOptions& options) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return not_found("cannot open audit log " + path);
  std::ostringstream buffer;
  buffer << file.rdbuf();
  AuditVerifyReport report;
  std::vector<Line> lines;
  std::optional<AuditFailure> torn = read_lines(buffer.str(), lines);
  report.records = static_cast<int64_t>(lines.size());
  if (torn && torn->kind != AuditFailureKind::kTornTail) {
    report.failure = torn;
    return report;
  }
  // The whole lines first: a torn tail is reported only when everything before it is intact.
  report.failure = check_chain(lines);
  std::string first_signer;
  for (const Line& l : lines) {
    if (report.failure) break;
    const std::string kind = l.record["kind"].get<std::string>();
    if (kind == "checkpoint") {
      report.failure = check_checkpoint(l, options.public_key, first_signer, report);
      report.unsigned_tail = 0;
    } else {
      ++report.unsigned_tail;
      if (kind == "recovery") {
        report.notes.push_back("record " + std::to_string(l.seq) + ": recovery after a crash (" +
                               std::to_string(l.record.value("torn_bytes", 0)) + " torn bytes cut)");
      }
    }
  }
  std::string anchor = options.anchor_path;
  std::error_code ec;
  if (anchor.empty() && std::filesystem::exists(path + ".head", ec)) anchor = path + ".head";
  if (!report.failure && !anchor.empty() && anchor != "-") {
    report.failure = check_anchor(anchor, lines, options.public_key, first_signer, report);
  }
  if (!report.failure && torn) report.failure = torn;
  if (options.public_key == nullptr && report.checkpoints > 0) {
    report.notes.push_back("signatures checked against the key embedded in the log (" + first_signer +
                           "); pass --pubkey to pin the operator's key");
  }
  if (report.unsigned_tail > 0) {
    report.notes.push_back(std::to_string(report.unsigned_tail) +
                           " record(s) after the last checkpoint are chained but not yet signed");
  }
  return report;
}

}  // namespace frugal::trust
