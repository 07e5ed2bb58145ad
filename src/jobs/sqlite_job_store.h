// SqliteJobStore: the JobStore in one SQLite file in WAL mode (jobs layer).
// Durability: synchronous=FULL, so a committed state change survives kill -9 and power loss; WAL lets
// readers (GET /v1/videos) proceed while the worker writes. One connection behind a mutex: the
// service's writes are a handful per second, far below what one connection does.
// Schema: table `jobs` — a row per job; the request (immutable) as JSON in `spec`, the mutable
// fields (state, progress, times, attempts, completions, results, webhook delivery) as columns;
// `seq` orders jobs.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "jobs/job_store.h"

struct sqlite3;

namespace frugal::jobs {

class SqliteJobStore final : public JobStore {
 public:
  // Opens (creating when missing) the database file; kUnavailable when it cannot.
  static Expected<std::unique_ptr<SqliteJobStore>> open(const std::string& path);
  ~SqliteJobStore() override;

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
  Expected<int64_t> recover_interrupted() override;
  Expected<int64_t> queue_position(const std::string& id) override;
  Expected<std::vector<TierQueue>> queue_stats() override;
  Expected<std::vector<JobRecord>> due_webhooks(int64_t now, int64_t limit) override;
  Status record_webhook_attempt(const std::string& id, WebhookState state, int64_t next_at) override;
  Expected<std::vector<std::string>> expired_jobs(int64_t now) override;

 private:
  explicit SqliteJobStore(sqlite3* db) : db_(db) {}
  // Runs SQL without results; kUnavailable with SQLite's message on failure. Caller holds mutex_.
  Status exec_locked(const std::string& sql);
  // Adds the columns and indexes newer than a database made by an older build.
  Status migrate_locked();
  Expected<JobRecord> get_locked(const std::string& id);
  Expected<JobState> state_locked(const std::string& id);
  // Moves `id` from `from` to `to` after check_transition; `set_sql` adds column assignments.
  Status transition_locked(const std::string& id, JobState from, JobState to);

  std::mutex mutex_;
  sqlite3* db_ = nullptr;
};

}  // namespace frugal::jobs
