// The LLM routes' audit trail (server layer): one trust::AuditEvent per API request to
// /v1/completions, /v1/chat/completions, /v1/responses and /v1/embeddings, written to the server's
// trust::AuditSink when the response is finished (its last byte written, for a stream).
// What is recorded: a fresh request id (also sent as X-Request-Id), the API key's id (never the key),
// the prompt's SHA-256 (the body's messages / prompt / input / instructions, canonical JSON), the
// model and route, the seed, the body's "user" (OpenAI's end-user id), tokens and cost from the
// request's access note (server/access_log.h),
// the outcome, and the SHA-256 of the response body exactly as sent (JSON, or the SSE bytes).
// Threading contract: one trail per request, used by the thread serving it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/access_log.h"
#include "trust/audit_sink.h"
#include "trust/sha256.h"

namespace frugal {

// The token of an "Authorization: Bearer <token>" value; "" for anything else.
std::string bearer_token(const std::string& authorization);

class LlmAuditTrail {
 public:
  // keys_required: the server checks API keys (the request passed that check to get here).
  LlmAuditTrail(trust::AuditSink& sink, std::string endpoint, const std::string& authorization,
                const std::string& body, bool keys_required);
  const std::string& request_id() const { return event_.request_id; }
  // A streamed response's bytes, as written.
  void add_bytes(std::string_view bytes) { output_.update(bytes); }
  // Copies the request's access note (model, usage) now: a stream ends after httplib's logger has
  // cleared it, so the stream's provider captures it after each pump.
  void capture_note();
  // A full response: its status and body; route: the X-Frugal-Route value ("" when none).
  void finish(int http_status, const std::string& body, const std::string& route);
  // A stream ended: completed (every byte written) or not (the client went away, or a write failed).
  void finish_stream(bool completed, const std::string& route);

 private:
  void write(const std::string& route);

  trust::AuditSink& sink_;
  trust::AuditEvent event_;
  trust::Sha256 output_;
  std::optional<AccessNoteView> note_;
  bool finished_ = false;
};

}  // namespace frugal
