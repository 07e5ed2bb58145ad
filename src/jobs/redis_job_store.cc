#include "jobs/redis_job_store.h"

#include <unistd.h>

#include <chrono>

#include "core/logging.h"
#include "jobs/job_record_json.h"
#include "jobs/redis_job_record.h"
#include "jobs/redis_job_scripts.h"

namespace frugal::jobs {
namespace {

std::string default_consumer() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "frugal") + ":" + std::to_string(::getpid());
}

std::string answer_of(const std::vector<RedisValue>& reply) { return reply.empty() ? "" : reply[0].str(); }

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Status no_such_job(const std::string& id) { return not_found("No video found with id '" + id + "'"); }

}  // namespace

Expected<std::unique_ptr<RedisJobStore>> RedisJobStore::open(const RedisJobStoreOptions& options) {
  auto address = parse_redis_url(options.url);
  if (!address) return address.error();
  if (options.lease_ms < 100) return invalid_argument("the job lease must be at least 100 ms");
  if (options.max_attempts < 1) return invalid_argument("the job's attempts must be at least 1");
  auto connection = RedisConnection::connect(*address, options.timeouts);
  if (!connection) {
    return Status(connection.error().code(), "job store " + options.url + ": " + connection.error().message());
  }
  RedisJobStoreOptions resolved = options;
  if (resolved.consumer.empty()) resolved.consumer = default_consumer();
  auto aof = (*connection)->command({"CONFIG", "GET", "appendonly"});
  if (aof && aof->elements.size() == 2 && aof->elements[1].str() != "yes") {
    log_warn("job store " + options.url + ": Redis runs without its append-only file (appendonly no): "
             "a Redis restart loses the jobs since its last snapshot");
  }
  std::unique_ptr<RedisJobStore> store(new RedisJobStore(std::move(resolved), std::move(*connection)));
  store->heartbeat_ = std::thread([raw = store.get()] { raw->heartbeat_loop(); });
  return store;
}

RedisJobStore::~RedisJobStore() {
  stopping_.store(true);
  heartbeat_wake_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
}

void RedisJobStore::heartbeat_loop() {
  const auto period = std::chrono::milliseconds(std::max<int64_t>(30, options_.lease_ms / 3));
  while (!stopping_.load()) {
    {
      std::unique_lock<std::mutex> lock(heartbeat_mutex_);
      heartbeat_wake_.wait_for(lock, period, [this] { return stopping_.load(); });
    }
    if (stopping_.load()) break;
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = claims_.begin(); it != claims_.end();) {
      auto reply = script_locked(redis_scripts::kTouch, {it->first, it->second, options_.consumer});
      if (reply && answer_of(*reply) == "lost") {
        log_warn("video job " + it->first + ": its lease went to another worker");
        lost_.insert(it->first);
        it = claims_.erase(it);
        continue;
      }
      ++it;
    }
  }
}

Expected<std::vector<RedisValue>> RedisJobStore::script_locked(const std::string& script, std::vector<std::string> args) {
  args.insert(args.begin(), options_.prefix);
  auto reply = connection_->eval(script, args);
  if (!reply) return reply.error();
  if (reply->kind != RedisValue::Kind::kArray || reply->elements.empty()) {
    return internal_error("job store: unexpected reply from a Redis script");
  }
  return std::move(reply->elements);
}

std::string RedisJobStore::token_locked(const std::string& id) const {
  if (lost_.count(id) != 0) return "lost";
  auto it = claims_.find(id);
  return it == claims_.end() ? "" : it->second;
}

Expected<JobRecord> RedisJobStore::get_locked(const std::string& id) {
  auto reply = connection_->command({"HGETALL", options_.prefix + "job:" + id});
  if (!reply) return reply.error();
  if (reply->elements.empty()) return no_such_job(id);
  return job_from_hash(reply->elements);
}

Expected<std::vector<JobRecord>> RedisJobStore::records_locked(const std::vector<RedisValue>& ids) {
  std::vector<JobRecord> jobs;
  for (const RedisValue& id : ids) {
    auto job = get_locked(id.str());
    if (job) {
      jobs.push_back(std::move(*job));
    } else if (job.error().code() != StatusCode::kNotFound) {
      return job.error();
    }
  }
  return jobs;
}

Expected<JobRecord> RedisJobStore::get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return get_locked(id);
}

Expected<JobRecord> RedisJobStore::submit(const JobRecord& job, const SubmitOptions& options, SubmitInfo* info) {
  std::lock_guard<std::mutex> lock(mutex_);
  SubmitInfo ignored;
  if (info == nullptr) info = &ignored;
  *info = SubmitInfo{};
  auto reply = script_locked(redis_scripts::kSubmit,
                             {job.id, job.model, job.tier, std::to_string(job.priority), job.idempotency_key,
                              job.api_key_hash, spec_json(job), std::to_string(job.created_at),
                              webhook_state_name(job.webhook_state), std::to_string(options.max_queued),
                              std::to_string(options.max_active_per_key)});
  if (!reply) return reply.error();
  const std::string answer = answer_of(*reply);
  if (answer == "existing") {
    info->existing = true;
    return get_locked((*reply)[1].str());
  }
  if (answer == "per_key") {
    info->refusal = SubmitInfo::Refusal::kPerKeyLimit;
    return resource_exhausted("This API key has " + (*reply)[1].str() +
                              " videos queued or in progress, its limit; retry when one finishes");
  }
  if (answer == "full") {
    info->refusal = SubmitInfo::Refusal::kQueueFull;
    return resource_exhausted("The video queue is full (" + std::to_string(options.max_queued) +
                              " jobs waiting); retry later");
  }
  return get_locked(job.id);
}

Expected<ListPage> RedisJobStore::list(const ListQuery& query) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string jobs_key = options_.prefix + "jobs";
  std::string bound = query.ascending ? "-inf" : "+inf";
  if (!query.after.empty()) {
    auto seq = connection_->command({"ZSCORE", jobs_key, query.after});
    if (!seq) return seq.error();
    if (seq->is_nil()) return not_found("No video found with id '" + query.after + "' (the 'after' cursor)");
    bound = "(" + seq->str();
  }
  const std::string count = std::to_string(query.limit + 1);
  auto ids = query.ascending ? connection_->command({"ZRANGEBYSCORE", jobs_key, bound, "+inf", "LIMIT", "0", count})
                             : connection_->command({"ZREVRANGEBYSCORE", jobs_key, bound, "-inf", "LIMIT", "0", count});
  if (!ids) return ids.error();
  auto jobs = records_locked(ids->elements);
  if (!jobs) return jobs.error();
  ListPage page;
  page.jobs = std::move(*jobs);
  if (static_cast<int64_t>(page.jobs.size()) > query.limit) {
    page.jobs.resize(static_cast<size_t>(query.limit));
    page.has_more = true;
  }
  return page;
}

Status RedisJobStore::remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto reply = script_locked(redis_scripts::kRemove, {id});
  if (!reply) return reply.error();
  claims_.erase(id);
  lost_.erase(id);
  if (answer_of(*reply) == "not_found") return no_such_job(id);
  return Status::ok();
}

Expected<std::optional<JobRecord>> RedisJobStore::claim_next(
    const std::string& model, int64_t now, const std::vector<std::pair<std::string, int>>& tier_caps) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> args = {model, std::to_string(now), options_.consumer, std::to_string(options_.lease_ms),
                                   std::to_string(options_.max_attempts)};
  for (const auto& [tier, cap] : tier_caps) {
    args.push_back(tier);
    args.push_back(std::to_string(cap));
  }
  auto reply = script_locked(redis_scripts::kClaim, std::move(args));
  if (!reply) return reply.error();
  if (answer_of(*reply) != "job") return std::optional<JobRecord>();
  JobRecord job = job_from_hash(*reply, 1);
  claims_[job.id] = options_.consumer + "#" + std::to_string(job.attempts);
  lost_.erase(job.id);
  return std::optional<JobRecord>(std::move(job));
}

Status RedisJobStore::update_progress(const std::string& id, double progress) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto reply = script_locked(redis_scripts::kProgress, {id, redis_double(progress), token_locked(id), options_.consumer});
  if (!reply) return reply.error();
  const std::string answer = answer_of(*reply);
  if (answer == "not_found") return not_found("job " + id + " is no longer running");
  if (answer == "lost") {
    claims_.erase(id);
    lost_.insert(id);
    return unavailable("video job " + id + ": lease lost, another worker runs it now");
  }
  return Status::ok();
}

Status RedisJobStore::finish_status(const std::string& id, const Expected<std::vector<RedisValue>>& reply) {
  if (!reply) {
    // Redis unreachable past the reconnects: the heartbeat stops, so the lease lapses and a worker
    // runs the job again (a lost reply of a change that was made is harmless: the job is finished).
    claims_.erase(id);
    return reply.error();
  }
  const std::string answer = answer_of(*reply);
  if (answer == "ok") {
    claims_.erase(id);
    return Status::ok();
  }
  if (answer == "not_found") {
    claims_.erase(id);
    return no_such_job(id);
  }
  if (answer == "lost") {
    claims_.erase(id);
    lost_.insert(id);
    return unavailable("video job " + id + ": lease lost, another worker runs it now");
  }
  const std::string state = reply->size() > 1 ? (*reply)[1].str() : "?";
  return internal_error("job " + id + " is " + state + ", not in_progress");
}

Status RedisJobStore::complete(const std::string& id, const JobResult& result, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  return finish_status(id, script_locked(redis_scripts::kComplete,
                                         {id, token_locked(id), std::to_string(now), std::to_string(result.expires_at),
                                          redis_double(result.compute_seconds), redis_double(result.cost_usd),
                                          stages_json(result.stage_seconds)}));
}

Status RedisJobStore::fail(const std::string& id, const std::string& code, const std::string& message, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  return finish_status(id, script_locked(redis_scripts::kFail, {id, token_locked(id), std::to_string(now), code, message}));
}

Status RedisJobStore::hold(const std::string& id, const JobResult& result, const std::string& reason,
                           const std::string& review, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  return finish_status(id, script_locked(redis_scripts::kHold,
                                         {id, token_locked(id), std::to_string(now), redis_double(result.compute_seconds),
                                          redis_double(result.cost_usd), stages_json(result.stage_seconds), reason,
                                          review}));
}

Status RedisJobStore::release(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string token = token_locked(id);
  if (token.empty()) return Status::ok();  // not ours
  return finish_status(id, script_locked(redis_scripts::kRelease,
                                         {id, token, options_.consumer, std::to_string(options_.lease_ms)}));
}

Expected<std::vector<JobRecord>> RedisJobStore::held_jobs(int64_t limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto ids = connection_->command({"ZRANGE", options_.prefix + "held", "0", std::to_string(limit - 1)});
  if (!ids) return ids.error();
  return records_locked(ids->elements);
}

Status RedisJobStore::decide_review(const std::string& id, bool approve, const std::string& reason,
                                    const std::string& review, int64_t expires_at, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto reply = script_locked(redis_scripts::kDecide, {id, approve ? "1" : "0", reason, review,
                                                      std::to_string(expires_at), std::to_string(now)});
  if (!reply) return reply.error();
  const std::string answer = answer_of(*reply);
  if (answer == "not_found") return no_such_job(id);
  if (answer == "conflict") {
    return invalid_argument("Video '" + id + "' is " + (*reply)[1].str() + "; only a held video can be reviewed");
  }
  return Status::ok();
}

Expected<int64_t> RedisJobStore::recover_interrupted() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto reply = script_locked(redis_scripts::kRecover, {options_.consumer, std::to_string(options_.lease_ms),
                                                       std::to_string(options_.max_attempts), std::to_string(now_seconds())});
  if (!reply) return reply.error();
  claims_.clear();
  return reply->size() > 1 ? std::stoll((*reply)[1].str()) : 0;
}

Expected<int64_t> RedisJobStore::queue_position(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto fields = connection_->command({"HMGET", options_.prefix + "job:" + id, "state", "model"});
  if (!fields) return fields.error();
  if (fields->elements.size() != 2 || fields->elements[0].str() != "queued") return int64_t{0};
  auto rank = connection_->command({"ZRANK", options_.prefix + "order:" + fields->elements[1].str(), id});
  if (!rank) return rank.error();
  return rank->is_nil() ? int64_t{0} : rank->integer + 1;
}

Expected<std::vector<JobStore::TierQueue>> RedisJobStore::queue_stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto tiers = connection_->command({"SMEMBERS", options_.prefix + "tiers"});
  if (!tiers) return tiers.error();
  std::vector<TierQueue> stats;
  for (const RedisValue& tier : tiers->elements) {
    TierQueue queue;
    queue.tier = tier.str();
    auto queued = connection_->command({"ZCARD", options_.prefix + "tierq:" + queue.tier});
    auto running = connection_->command({"SCARD", options_.prefix + "running:" + queue.tier});
    auto oldest = connection_->command({"ZRANGE", options_.prefix + "tierq:" + queue.tier, "0", "0", "WITHSCORES"});
    if (!queued) return queued.error();
    if (!running) return running.error();
    if (!oldest) return oldest.error();
    queue.queued = queued->integer;
    queue.running = running->integer;
    if (oldest->elements.size() == 2) queue.oldest_created_at = std::stoll(oldest->elements[1].str());
    stats.push_back(queue);
  }
  return stats;
}

Expected<std::vector<JobRecord>> RedisJobStore::due_webhooks(int64_t now, int64_t limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto ids = connection_->command({"ZRANGEBYSCORE", options_.prefix + "webhooks", "-inf", std::to_string(now), "LIMIT",
                                   "0", std::to_string(limit)});
  if (!ids) return ids.error();
  auto jobs = records_locked(ids->elements);
  if (!jobs) return jobs.error();
  std::vector<JobRecord> due;
  for (JobRecord& job : *jobs) {
    if (is_terminal(job.state) && job.webhook_state == WebhookState::kPending) due.push_back(std::move(job));
  }
  return due;
}

Status RedisJobStore::record_webhook_attempt(const std::string& id, WebhookState state, int64_t next_at) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto reply = script_locked(redis_scripts::kWebhookAttempt, {id, webhook_state_name(state), std::to_string(next_at)});
  if (!reply) return reply.error();
  if (answer_of(*reply) == "not_found") return no_such_job(id);
  return Status::ok();
}

Expected<std::vector<std::string>> RedisJobStore::expired_jobs(int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto ids = connection_->command({"ZRANGEBYSCORE", options_.prefix + "expiry", "1", std::to_string(now)});
  if (!ids) return ids.error();
  auto jobs = records_locked(ids->elements);
  if (!jobs) return jobs.error();
  std::vector<std::string> expired;
  for (const JobRecord& job : *jobs) {
    if (is_terminal(job.state)) expired.push_back(job.id);
  }
  return expired;
}

}  // namespace frugal::jobs
