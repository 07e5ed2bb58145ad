#include "server/llm_audit.h"

#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "core/logging.h"
#include "server/access_log.h"
#include "trust/audit_record.h"

namespace frugal {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxAuditUserBytes = 256;  // the API's own limit on "user" (server/openai_schema.h)

// "req_" + 16 random hex digits.
std::string new_request_id() {
  unsigned char bytes[8] = {};
  (void)RAND_bytes(bytes, sizeof(bytes));
  return "req_" + trust::bytes_to_hex(bytes, sizeof(bytes));
}

// The parts of a request body that make up its prompt, as canonical JSON; the raw body when it is
// not a JSON object (the request is rejected, but what was sent is still accounted for).
std::string prompt_of(const json& parsed, const std::string& body) {
  if (!parsed.is_object()) return body;
  json prompt = json::object();
  for (const char* key : {"messages", "prompt", "input", "instructions", "tools"}) {
    if (parsed.contains(key)) prompt[key] = parsed[key];
  }
  return trust::canonical_json(prompt);
}

}  // namespace

std::string bearer_token(const std::string& authorization) {
  const std::string prefix = "Bearer ";
  if (authorization.rfind(prefix, 0) != 0) return "";
  const size_t begin = authorization.find_first_not_of(" \t", prefix.size());
  const size_t end = authorization.find_last_not_of(" \t");
  return begin == std::string::npos ? "" : authorization.substr(begin, end - begin + 1);
}

LlmAuditTrail::LlmAuditTrail(trust::AuditSink& sink, std::string endpoint, const std::string& authorization,
                             const std::string& body, bool keys_required)
    : sink_(sink) {
  event_.kind = "llm_request";
  event_.endpoint = std::move(endpoint);
  event_.request_id = new_request_id();
  event_.key_id = trust::api_key_id(bearer_token(authorization));
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  event_.prompt = prompt_of(parsed, body);
  event_.checks.push_back({"api_key", keys_required ? "pass" : "skip",
                           keys_required ? "a listed key" : "the server checks no API keys"});
  if (parsed.is_object()) {
    if (parsed.contains("seed") && parsed["seed"].is_number_unsigned()) event_.seed = parsed["seed"].get<uint64_t>();
    if (parsed.contains("model") && parsed["model"].is_string()) event_.model = parsed["model"].get<std::string>();
    // OpenAI's end-user id; bounded here too, as a rejected request (user too long) is recorded as well.
    if (parsed.contains("user") && parsed["user"].is_string()) {
      event_.user = parsed["user"].get<std::string>().substr(0, kMaxAuditUserBytes);
    }
  }
}

void LlmAuditTrail::capture_note() {
  AccessNoteView note = access_note_view();
  if (note.model) note_ = std::move(note);
}

void LlmAuditTrail::finish(int http_status, const std::string& body, const std::string& route) {
  output_.update(body);
  event_.outcome = http_status < 300 ? "completed" : http_status < 500 ? "rejected" : "failed";
  event_.checks.push_back({"http_status", http_status < 300 ? "pass" : "fail", std::to_string(http_status)});
  write(route);
}

void LlmAuditTrail::finish_stream(bool completed, const std::string& route) {
  event_.outcome = completed ? "completed" : "client_gone";
  event_.checks.push_back({"stream", completed ? "pass" : "fail", completed ? "every event written" : "cut short"});
  write(route);
}

void LlmAuditTrail::write(const std::string& route) {
  if (finished_) return;
  finished_ = true;
  const AccessNoteView note = note_ ? *note_ : access_note_view();
  if (note.model) {
    event_.model = *note.model;
    event_.prompt_tokens = note.usage.prompt_tokens;
    event_.completion_tokens = note.usage.completion_tokens;
    event_.cost_usd = note.usage.cost_usd;
  }
  if (!route.empty()) {
    event_.tier = route;
    event_.checks.push_back({"route", "info", route});
  }
  event_.output_sha256 = output_.finish_hex();
  if (Status s = sink_.record(event_); !s) log_error("audit log: request " + event_.request_id + ": " + s.to_string());
}

}  // namespace frugal
