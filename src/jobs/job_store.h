// JobStore: the durable jobs and the queue over them (jobs layer). The one place a job's state
// changes: every method that changes a job commits it durably before it returns, so whatever a
// caller reports (an HTTP answer, a metric) is already on disk. The SQLite backend is the default;
// RedisJobStore (redis_job_store.h) is the Redis Streams one, for several API nodes and workers.
// Threading contract: every method is safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "jobs/job.h"

namespace frugal::jobs {

struct SubmitOptions {
  int64_t max_queued = 0;          // > 0: refuse (kResourceExhausted) when this many jobs are queued already
  int64_t max_active_per_key = 0;  // > 0: refuse when the job's api_key_hash has this many queued or in progress
};

// What submit() did besides storing the job.
struct SubmitInfo {
  enum class Refusal { kNone, kQueueFull, kPerKeyLimit };
  bool existing = false;             // an Idempotency-Key replay: the stored job came back
  Refusal refusal = Refusal::kNone;  // why a kResourceExhausted refused it
};

struct ListQuery {
  std::string after;        // a job id: list the ones after it in this order ("" from the start)
  int64_t limit = 20;       // 1..100
  bool ascending = false;   // by created_at, then id
};

struct ListPage {
  std::vector<JobRecord> jobs;
  bool has_more = false;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Adds a queued job. A record whose idempotency_key (with the same api_key_hash) is already
  // stored is not added: the stored job comes back, with info->existing set (info may be null).
  // A replay is never refused; otherwise the per-key limit, then the queue bound (kResourceExhausted).
  virtual Expected<JobRecord> submit(const JobRecord& job, const SubmitOptions& options, SubmitInfo* info) = 0;
  // kNotFound when no such job.
  virtual Expected<JobRecord> get(const std::string& id) = 0;
  // kNotFound when `after` names no job.
  virtual Expected<ListPage> list(const ListQuery& query) = 0;
  // Deletes the job in any state; kNotFound when absent (so a second delete is a 404).
  virtual Status remove(const std::string& id) = 0;

  // The next queued job of `model` (highest priority, then oldest), moved to in_progress with
  // attempts + 1 and started_at = now. `tier_caps` (may be empty) caps the in-progress jobs per
  // tier: a tier at its cap is skipped; 0 is no cap; a negative cap: the tier is not served by this
  // caller (never claimed). SQLite counts the tier's running jobs; Redis this worker's own (each
  // worker process has its own caps: scale a tier by adding workers). nullopt when nothing is runnable.
  virtual Expected<std::optional<JobRecord>> claim_next(const std::string& model, int64_t now,
                                                        const std::vector<std::pair<std::string, int>>& tier_caps) = 0;
  // Progress of a running job (0..100); kNotFound when it was deleted meanwhile.
  virtual Status update_progress(const std::string& id, double progress) = 0;
  // in_progress → completed (completions + 1). kNotFound when it was deleted meanwhile;
  // kInternal when it is not in_progress. complete() and fail() turn a kWaiting webhook into kPending
  // (due now) in the same commit.
  virtual Status complete(const std::string& id, const JobResult& result, int64_t now) = 0;
  // in_progress → failed.
  virtual Status fail(const std::string& id, const std::string& code, const std::string& message, int64_t now) = 0;
  // in_progress → held_for_review: a post-generation check flagged it (docs/design/trust-review.md).
  // Its files are stored; `result`'s cost and timings are recorded as complete() records them, the
  // expiry waits for the decision. kNotFound when it was deleted meanwhile.
  virtual Status hold(const std::string& id, const JobResult& result, const std::string& reason,
                      const std::string& review, int64_t now) = 0;
  // The review queue: held jobs, oldest first, at most `limit`.
  virtual Expected<std::vector<JobRecord>> held_jobs(int64_t limit) = 0;
  // A reviewer's decision on a held job: approved → completed (completions + 1, files expire at
  // `expires_at`), rejected → failed with code "content_rejected" and `reason` as its message.
  // `review` replaces the stored review JSON. A kWaiting webhook becomes due in the same commit.
  // kNotFound when absent; kInvalidArgument when the job is not held.
  virtual Status decide_review(const std::string& id, bool approve, const std::string& reason,
                               const std::string& review, int64_t expires_at, int64_t now) = 0;
  // At start-up: every in_progress job (its worker died with the last process) goes back to queued.
  // Returns how many.
  virtual Expected<int64_t> recover_interrupted() = 0;
  // A draining worker gives back a job it claimed and did not finish: in_progress → queued, to be
  // claimed by another worker at once. The SQLite store keeps it in_progress (its next start
  // recovers it: one process owns the queue); the Redis store requeues it.
  virtual Status release(const std::string& id) {
    (void)id;
    return Status::ok();
  }

  // 1-based place in `model`'s claim order of a queued job; 0 when it is not queued.
  virtual Expected<int64_t> queue_position(const std::string& id) = 0;
  struct TierQueue {
    std::string tier;
    int64_t queued = 0;
    int64_t running = 0;
    int64_t oldest_created_at = 0;  // of the queued ones; 0 when none
  };
  virtual Expected<std::vector<TierQueue>> queue_stats() = 0;
  // Terminal jobs whose webhook is kPending with webhook_next_at <= now, oldest first, at most `limit`.
  virtual Expected<std::vector<JobRecord>> due_webhooks(int64_t now, int64_t limit) = 0;
  // After a delivery attempt: webhook_attempts + 1 and the new state (kDelivered, kAbandoned, or
  // kPending again with `next_at`). kNotFound when the job was deleted meanwhile.
  virtual Status record_webhook_attempt(const std::string& id, WebhookState state, int64_t next_at) = 0;

  // Completed/failed jobs whose files expired at `now`; the service deletes their files and rows.
  virtual Expected<std::vector<std::string>> expired_jobs(int64_t now) = 0;
};

}  // namespace frugal::jobs
