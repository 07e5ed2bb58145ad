// RedisJobStore: the JobStore on Redis Streams (jobs layer), for several API nodes and workers
// sharing one queue (docs/design/video-service.md, "Redis Streams backend").
// A job is a hash (the request as JSON, as SqliteJobStore keeps it); each (model, tier) has a stream
// with the consumer group "workers": submit adds an entry, claim_next reads the streams in the
// tiers' priority order (XREADGROUP), and the entry is acknowledged (XACK) only in the same script
// that stores the job's end (complete/fail/hold), after the worker stored the files. A worker that
// dies leaves its entry pending: once its lease lapses (no progress or heartbeat for lease_ms) the
// next claim of any worker takes it over (XAUTOCLAIM); after max_attempts interrupted runs the job
// fails with code "attempts_exhausted" and its id goes to the dead-letter stream "<prefix>dead".
// Every state change is one Lua script (redis_job_scripts.h), atomic in Redis; reads are plain
// commands. A heartbeat thread refreshes the leases of the jobs this store claimed (XCLAIM JUSTID),
// every lease_ms / 3. Each claim carries a fence ("<consumer>#<attempt>"): a worker whose lease
// was taken over cannot complete the job (kUnavailable "lease lost"), so a job completes once.
// Durability is Redis's: run it with appendonly yes and appendfsync always for the SQLite store's
// guarantee (an acknowledged submit survives kill -9 of Redis).
// Threading contract: every method is safe to call from any thread (one connection behind a mutex).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "jobs/job_store.h"
#include "jobs/redis_connection.h"

namespace frugal::jobs {

struct RedisJobStoreOptions {
  std::string url = "redis://127.0.0.1:6379";  // redis://HOST[:PORT][/DB]
  std::string prefix = "frugal:";              // every key starts with it
  std::string consumer;                        // this process's name in the groups; "" → <hostname>:<pid>
  int64_t lease_ms = 30000;                    // a running job unrefreshed this long is taken over
  int max_attempts = 3;                        // interrupted runs before the dead-letter stream
  RedisTimeouts timeouts;
};

class RedisJobStore final : public JobStore {
 public:
  // Connects (kUnavailable when Redis cannot be reached, kInvalidArgument for a bad URL or option)
  // and starts the heartbeat. Warns on stderr when Redis's append-only file is off.
  static Expected<std::unique_ptr<RedisJobStore>> open(const RedisJobStoreOptions& options);
  ~RedisJobStore() override;

  Expected<JobRecord> submit(const JobRecord& job, const SubmitOptions& options, SubmitInfo* info) override;
  Expected<JobRecord> get(const std::string& id) override;
  Expected<ListPage> list(const ListQuery& query) override;
  Status remove(const std::string& id) override;
  Expected<std::optional<JobRecord>> claim_next(const std::string& model, int64_t now,
                                                const std::vector<std::pair<std::string, int>>& tier_caps) override;
  Status update_progress(const std::string& id, double progress) override;
  Status complete(const std::string& id, const JobResult& result, int64_t now) override;
  Status fail(const std::string& id, const std::string& code, const std::string& message, int64_t now) override;
  Status hold(const std::string& id, const JobResult& result, const std::string& reason, const std::string& review,
              int64_t now) override;
  Expected<std::vector<JobRecord>> held_jobs(int64_t limit) override;
  Status decide_review(const std::string& id, bool approve, const std::string& reason, const std::string& review,
                       int64_t expires_at, int64_t now) override;
  // This consumer's jobs left in_progress (a previous process with the same consumer name died):
  // queued again at the head of their stream, or dead-lettered after max_attempts. Other
  // consumers' jobs are left to their leases.
  Expected<int64_t> recover_interrupted() override;
  // A job this store claimed goes back to queued; its entry can be taken over by any worker at once.
  Status release(const std::string& id) override;
  Expected<int64_t> queue_position(const std::string& id) override;
  Expected<std::vector<TierQueue>> queue_stats() override;
  Expected<std::vector<JobRecord>> due_webhooks(int64_t now, int64_t limit) override;
  Status record_webhook_attempt(const std::string& id, WebhookState state, int64_t next_at) override;
  Expected<std::vector<std::string>> expired_jobs(int64_t now) override;

  const std::string& consumer() const { return options_.consumer; }

 private:
  RedisJobStore(RedisJobStoreOptions options, std::unique_ptr<RedisConnection> connection)
      : options_(std::move(options)), connection_(std::move(connection)) {}
  // Runs a script (redis_scripts::k*) with the prefix and `args`; the reply's array. Caller holds mutex_.
  Expected<std::vector<RedisValue>> script_locked(const std::string& script, std::vector<std::string> args);
  Expected<JobRecord> get_locked(const std::string& id);
  // The records of `ids`, skipping ones deleted meanwhile.
  Expected<std::vector<JobRecord>> records_locked(const std::vector<RedisValue>& ids);
  // The fence of a job this store claimed ("" when it claimed none; one that never matches when
  // its lease went to another worker).
  std::string token_locked(const std::string& id) const;
  // Maps a finishing script's answer to a Status.
  Status finish_status(const std::string& id, const Expected<std::vector<RedisValue>>& reply);
  void heartbeat_loop();

  RedisJobStoreOptions options_;
  std::mutex mutex_;
  std::unique_ptr<RedisConnection> connection_;
  std::map<std::string, std::string> claims_;  // job id → fence, the jobs this store runs
  std::set<std::string> lost_;                 // jobs whose lease went to another worker
  std::atomic<bool> stopping_{false};
  std::mutex heartbeat_mutex_;
  std::condition_variable heartbeat_wake_;
  std::thread heartbeat_;
};

}  // namespace frugal::jobs
