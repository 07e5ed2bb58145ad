#include "jobs/redis_job_record.h"

#include <charconv>
#include <cstdio>
#include <map>

#include "jobs/job_record_json.h"

namespace frugal::jobs {
namespace {

int64_t to_int(const std::string& text) {
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

double to_double(const std::string& text) {
  if (text.empty()) return 0;
  return std::strtod(text.c_str(), nullptr);
}

}  // namespace

std::string redis_double(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

JobRecord job_from_hash(const std::vector<RedisValue>& flat, size_t first) {
  std::map<std::string, std::string> fields;
  for (size_t i = first; i + 1 < flat.size(); i += 2) fields[flat[i].str()] = flat[i + 1].str();
  auto at = [&](const char* name) -> const std::string& {
    static const std::string empty;
    auto it = fields.find(name);
    return it == fields.end() ? empty : it->second;
  };
  JobRecord job;
  job.id = at("id");
  job.model = at("model");
  job.tier = at("tier");
  job.priority = static_cast<int>(to_int(at("priority")));
  job.idempotency_key = at("idempotency_key");
  job.api_key_hash = at("api_key_hash");
  read_spec(at("spec"), job);
  job.state = parse_job_state(at("state")).value_or(JobState::kFailed);
  job.progress = to_double(at("progress"));
  job.created_at = to_int(at("created_at"));
  job.started_at = to_int(at("started_at"));
  job.completed_at = to_int(at("completed_at"));
  job.expires_at = to_int(at("expires_at"));
  job.attempts = static_cast<int>(to_int(at("attempts")));
  job.completions = static_cast<int>(to_int(at("completions")));
  job.error_code = at("error_code");
  job.error_message = at("error_message");
  job.compute_seconds = to_double(at("compute_seconds"));
  job.cost_usd = to_double(at("cost_usd"));
  read_stages(at("stages"), job.stage_seconds);
  job.webhook_state = parse_webhook_state(at("webhook_state"));
  job.webhook_attempts = static_cast<int>(to_int(at("webhook_attempts")));
  job.webhook_next_at = to_int(at("webhook_next_at"));
  job.hold_reason = at("hold_reason");
  job.review = at("review");
  return job;
}

}  // namespace frugal::jobs
