// The access log (server layer): `serve --access-log FILE` appends one JSON object per request and
// line: {"time": "2025-01-02T03:04:05.678Z", "method", "path", "status", "latency_ms", "bytes",
// "model", "prompt_tokens", "completion_tokens", "cost_usd", "client": "127.0.0.1:54321"}.
// model/tokens/cost are null for requests that ran no model (/health, errors before routing).
// "request_id" and "forwarded_for" are added when the request carries X-Request-Id / X-Forwarded-For
// (set by a proxy in front, deploy/nginx/frugal.conf), so a proxy's log line joins the node's.
//
// How the fields meet: httplib reads a request, runs its handler, writes the response (a stream
// too) and calls the logger on one worker thread, so each worker keeps a thread-local note that
// the pre-routing hook starts (access_note_begin), the API code fills (model and usage, streamed
// bytes) and the logger writes and clears. Writes are serialized by a mutex and flushed per line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/expected.h"
#include "engine/request.h"

namespace httplib {
class Server;
}

namespace frugal {

// The calling worker thread's note for the request it is serving.
void access_note_begin();
void access_note_usage(std::string_view model, const Usage& usage);  // adds up (several choices, prompts)
void access_note_bytes(size_t bytes);                                 // streamed body bytes written
// What the note holds so far (the audit trail reads the model and usage from it).
struct AccessNoteView {
  std::optional<std::string> model;  // nullopt: no model ran
  Usage usage;
};
AccessNoteView access_note_view();

class AccessLog {
 public:
  // Opens FILE for appending (created if absent). Errors: kUnavailable naming the path.
  static Expected<std::unique_ptr<AccessLog>> open(const std::string& path);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Appends one line (a JSON object, no newline inside) and flushes it. Thread-safe.
  void write_line(const std::string& json_object);

 private:
  explicit AccessLog(std::FILE* file) : file_(file) {}
  std::mutex mutex_;
  std::FILE* file_;
};

// Makes `server` write every request it answers to `log` (which must outlive the server).
void install_access_log(httplib::Server& server, AccessLog& log);

}  // namespace frugal
