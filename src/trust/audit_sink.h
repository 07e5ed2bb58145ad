// AuditSink: the narrow seam through which the jobs and server layers report what happened to a
// request, for the tamper-evident audit log (trust/audit_log.h) — and through which moderation,
// review and the post-generation checks add their decisions as AuditChecks (trust layer).
// Threading contract: record() is safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace frugal::trust {

// One decision or check made about a request: {"name": "api_key", "verdict": "pass", "detail": ...}.
// Verdicts in use: "pass", "fail", "block", "hold", "skip", "info".
struct AuditCheck {
  std::string name;
  std::string verdict;
  std::string detail;
};

// What one finished request was. The log stores the prompt's SHA-256 (and the prompt itself only
// when the operator asks), never the API key: key_id is api_key_id() of it.
struct AuditEvent {
  std::string kind;                   // "video_job" | "video_review" | "llm_request"
  std::string request_id;             // the job id, or the HTTP request's id
  std::string key_id;                 // api_key_id(bearer token); "" without API keys
  std::string prompt;                 // the prompt text (video) / the request's prompt JSON (LLM)
  std::vector<AuditCheck> checks;
  std::string model;
  std::string tier;                   // video tier / LLM route; "" when none
  std::optional<uint64_t> seed;
  std::string outcome;                // "completed" | "failed" | "cancelled" | "held_for_review" | "rejected" |
                                      // "client_gone" | "approved" (review)
  std::string output_sha256;          // SHA-256 of the MP4 / of the response body as sent; "" when none
  double cost_usd = 0;
  std::optional<int64_t> prompt_tokens;      // LLM only
  std::optional<int64_t> completion_tokens;  // LLM only
  std::string endpoint;               // "/v1/chat/completions", "/v1/videos", ...
  std::string user;                   // LLM: the body's "user" (OpenAI's end-user id), <= 256 bytes; "" when none
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Appends the event durably. An error means the event is NOT in the log (callers log it).
  virtual Status record(const AuditEvent& event) = 0;
};

// A stable, non-secret name for an API key: "key_" + the first 16 hex digits of SHA-256(key).
// "" for an empty key.
std::string api_key_id(const std::string& api_key);

}  // namespace frugal::trust
