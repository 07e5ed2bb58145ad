// The audit log's record format (trust layer): one JSON object per line, keys sorted, compact, ASCII
// only (the canonical serialization). Every record carries "seq" (0-based, +1 per record), "kind",
// "time" (UTC, ms), "prev" (the previous record's hash; 64 zeros for seq 0) and "hash" = SHA-256 of
// the canonical serialization of the record without its "hash" key. Kinds: "video_job",
// "video_review" and "llm_request" (an AuditEvent), "checkpoint" (a signed statement of the chain head), "recovery"
// (a torn tail was cut on open). See docs/design/trust-audit-log.md.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "trust/audit_sink.h"

namespace frugal::trust {

inline constexpr const char* kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

// The canonical serialization of `record` (sorted keys, no spaces, \u-escaped non-ASCII).
std::string canonical_json(const nlohmann::json& record);
// SHA-256 hex of the canonical serialization of `record` minus its "hash" key.
std::string record_hash(const nlohmann::json& record);
// Sets "hash" and returns the line to append (canonical, no newline).
std::string seal_record(nlohmann::json& record);

// The body of an event record (no seq/prev/hash yet). store_prompt: include the prompt text.
nlohmann::json event_record(const AuditEvent& event, bool store_prompt);

// The message a checkpoint's signature covers: "frugal-audit-checkpoint-v1\n<count>\n<head>\n".
// count = records before the checkpoint (= its seq); head = the hash of record count-1.
std::string checkpoint_message(int64_t count, const std::string& head);

}  // namespace frugal::trust
