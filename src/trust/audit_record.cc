#include "trust/audit_record.h"


#include "trust/sha256.h"

namespace frugal::trust {

using json = nlohmann::json;

std::string api_key_id(const std::string& api_key) {
  if (api_key.empty()) return "";
  return "key_" + sha256_hex(api_key).substr(0, 16);
}

std::string canonical_json(const json& record) {
  // nlohmann::json objects are std::map: keys come out sorted. Numbers print in their shortest
  // round-trip form, so parse → dump reproduces the same bytes.
  return record.dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
}

std::string record_hash(const json& record) {
  json body = record;
  body.erase("hash");
  return sha256_hex(canonical_json(body));
}

std::string seal_record(json& record) {
  record["hash"] = record_hash(record);
  return canonical_json(record);
}

json event_record(const AuditEvent& event, bool store_prompt) {
  json record;
  record["kind"] = event.kind;
  record["request_id"] = event.request_id;
  record["key_id"] = event.key_id;
  record["endpoint"] = event.endpoint;
  record["prompt_sha256"] = sha256_hex(event.prompt);
  if (store_prompt) record["prompt"] = event.prompt;
  json checks = json::array();
  for (const AuditCheck& check : event.checks) {
    checks.push_back({{"name", check.name}, {"verdict", check.verdict}, {"detail", check.detail}});
  }
  record["checks"] = std::move(checks);
  record["model"] = event.model;
  record["tier"] = event.tier;
  record["seed"] = event.seed ? json(*event.seed) : json(nullptr);
  record["outcome"] = event.outcome;
  record["output_sha256"] = event.output_sha256;
  record["cost_usd"] = event.cost_usd;
  if (event.prompt_tokens) record["prompt_tokens"] = *event.prompt_tokens;
  if (event.completion_tokens) record["completion_tokens"] = *event.completion_tokens;
  if (!event.user.empty()) record["user"] = event.user;  // absent when none: older records hash the same
  return record;
}

std::string checkpoint_message(int64_t count, const std::string& head) {
  return "frugal-audit-checkpoint-v1\n" + std::to_string(count) + "\n" + head + "\n";
}

}  // namespace frugal::trust
