#include "jobs/sqlite_job_store.h"

#include <sqlite3.h>

#include <set>

#include "jobs/job_record_json.h"
#include "jobs/sqlite_statement.h"

namespace frugal::jobs {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  model TEXT NOT NULL,
  tier TEXT NOT NULL,
  priority INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL,
  api_key_hash TEXT NOT NULL,
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  progress REAL NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL DEFAULT 0,
  completed_at INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  completions INTEGER NOT NULL DEFAULT 0,
  error_code TEXT NOT NULL DEFAULT '',
  error_message TEXT NOT NULL DEFAULT '',
  compute_seconds REAL NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  stages TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS jobs_claim ON jobs(state, model, priority DESC, seq);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency ON jobs(api_key_hash, idempotency_key) WHERE idempotency_key != '';
)sql";

// Columns added after the first release: a database made before them gets them at open.
constexpr const char* kAddedColumns[][2] = {
    {"webhook_state", "TEXT NOT NULL DEFAULT ''"},
    {"webhook_attempts", "INTEGER NOT NULL DEFAULT 0"},
    {"webhook_next_at", "INTEGER NOT NULL DEFAULT 0"},
    {"hold_reason", "TEXT NOT NULL DEFAULT ''"},
    {"review", "TEXT NOT NULL DEFAULT ''"},
};
constexpr const char* kAddedIndexes =
    "CREATE INDEX IF NOT EXISTS jobs_webhooks ON jobs(webhook_state, webhook_next_at) WHERE webhook_state = 'pending'";

// complete()/fail(): a webhook waiting for the job's end becomes due now.
constexpr const char* kWebhookDueNow =
    "webhook_state = CASE webhook_state WHEN 'waiting' THEN 'pending' ELSE webhook_state END, webhook_next_at = ?9";

// The columns every read selects, in the order row_to_record reads them.
constexpr const char* kColumns =
    "id, model, tier, priority, idempotency_key, api_key_hash, spec, state, progress, created_at, started_at, "
    "completed_at, expires_at, attempts, completions, error_code, error_message, compute_seconds, cost_usd, stages, "
    "webhook_state, webhook_attempts, webhook_next_at, hold_reason, review";

JobRecord row_to_record(const Statement& row) {
  JobRecord job;
  job.id = row.text_at(0);
  job.model = row.text_at(1);
  job.tier = row.text_at(2);
  job.priority = static_cast<int>(row.int64_at(3));
  job.idempotency_key = row.text_at(4);
  job.api_key_hash = row.text_at(5);
  read_spec(row.text_at(6), job);
  job.state = parse_job_state(row.text_at(7)).value_or(JobState::kFailed);
  job.progress = row.double_at(8);
  job.created_at = row.int64_at(9);
  job.started_at = row.int64_at(10);
  job.completed_at = row.int64_at(11);
  job.expires_at = row.int64_at(12);
  job.attempts = static_cast<int>(row.int64_at(13));
  job.completions = static_cast<int>(row.int64_at(14));
  job.error_code = row.text_at(15);
  job.error_message = row.text_at(16);
  job.compute_seconds = row.double_at(17);
  job.cost_usd = row.double_at(18);
  read_stages(row.text_at(19), job.stage_seconds);
  job.webhook_state = parse_webhook_state(row.text_at(20));
  job.webhook_attempts = static_cast<int>(row.int64_at(21));
  job.webhook_next_at = row.int64_at(22);
  job.hold_reason = row.text_at(23);
  job.review = row.text_at(24);
  return job;
}

}  // namespace

Expected<std::unique_ptr<SqliteJobStore>> SqliteJobStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    const std::string why = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return unavailable("cannot open the job database " + path + ": " + why);
  }
  std::unique_ptr<SqliteJobStore> store(new SqliteJobStore(db));
  sqlite3_busy_timeout(db, 5000);
  std::lock_guard<std::mutex> lock(store->mutex_);
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", kSchema}) {
    if (Status s = store->exec_locked(sql); !s) return Status(s.code(), path + ": " + s.message());
  }
  if (Status s = store->migrate_locked(); !s) return Status(s.code(), path + ": " + s.message());
  return store;
}

SqliteJobStore::~SqliteJobStore() { sqlite3_close(db_); }

Status SqliteJobStore::migrate_locked() {
  std::set<std::string> columns;
  Statement info(db_, "PRAGMA table_info(jobs)");
  while (info.step()) columns.insert(info.text_at(1));
  if (!info.status()) return info.status();
  for (const auto& [name, type] : kAddedColumns) {
    if (columns.count(name) > 0) continue;
    if (Status s = exec_locked(std::string("ALTER TABLE jobs ADD COLUMN ") + name + " " + type); !s) return s;
  }
  return exec_locked(kAddedIndexes);
}

Status SqliteJobStore::exec_locked(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK) return Status::ok();
  const std::string why = message != nullptr ? message : "unknown error";
  sqlite3_free(message);
  return unavailable("sqlite: " + why);
}

Expected<JobRecord> SqliteJobStore::get_locked(const std::string& id) {
  Statement select(db_, std::string("SELECT ") + kColumns + " FROM jobs WHERE id = ?1");
  select.bind(1, id);
  if (select.step()) return row_to_record(select);
  if (!select.status()) return select.status();
  return not_found("No video found with id '" + id + "'");
}

Expected<JobRecord> SqliteJobStore::get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return get_locked(id);
}

Expected<JobRecord> SqliteJobStore::submit(const JobRecord& job, const SubmitOptions& options, SubmitInfo* info) {
  std::lock_guard<std::mutex> lock(mutex_);
  SubmitInfo ignored;
  if (info == nullptr) info = &ignored;
  *info = SubmitInfo{};
  if (!job.idempotency_key.empty()) {
    Statement find(db_, "SELECT id FROM jobs WHERE api_key_hash = ?1 AND idempotency_key = ?2");
    find.bind(1, job.api_key_hash).bind(2, job.idempotency_key);
    if (find.step()) {
      info->existing = true;
      return get_locked(find.text_at(0));
    }
  }
  if (options.max_active_per_key > 0) {
    Statement count(db_, "SELECT COUNT(*) FROM jobs WHERE api_key_hash = ?1 AND state IN ('queued', 'in_progress')");
    count.bind(1, job.api_key_hash);
    if (!count.step()) return count.status();
    if (count.int64_at(0) >= options.max_active_per_key) {
      info->refusal = SubmitInfo::Refusal::kPerKeyLimit;
      return resource_exhausted("This API key has " + std::to_string(count.int64_at(0)) +
                                " videos queued or in progress, its limit; retry when one finishes");
    }
  }
  if (options.max_queued > 0) {
    Statement count(db_, "SELECT COUNT(*) FROM jobs WHERE state = 'queued'");
    if (!count.step()) return count.status();
    if (count.int64_at(0) >= options.max_queued) {
      info->refusal = SubmitInfo::Refusal::kQueueFull;
      return resource_exhausted("The video queue is full (" + std::to_string(options.max_queued) +
                                " jobs waiting); retry later");
    }
  }
  Statement insert(db_,
                   "INSERT INTO jobs (id, model, tier, priority, idempotency_key, api_key_hash, spec, state, created_at, "
                   "webhook_state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?9)");
  insert.bind(1, job.id).bind(2, job.model).bind(3, job.tier).bind(4, job.priority).bind(5, job.idempotency_key);
  insert.bind(6, job.api_key_hash).bind(7, spec_json(job)).bind(8, job.created_at);
  insert.bind(9, std::string(webhook_state_name(job.webhook_state)));
  if (Status s = insert.run(); !s) return s;
  return get_locked(job.id);
}

Expected<ListPage> SqliteJobStore::list(const ListQuery& query) {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t after_seq = query.ascending ? 0 : INT64_MAX;
  if (!query.after.empty()) {
    Statement find(db_, "SELECT seq FROM jobs WHERE id = ?1");
    find.bind(1, query.after);
    if (!find.step()) {
      if (!find.status()) return find.status();
      return not_found("No video found with id '" + query.after + "' (the 'after' cursor)");
    }
    after_seq = find.int64_at(0);
  }
  const std::string where = query.ascending ? "seq > ?1 ORDER BY seq ASC" : "seq < ?1 ORDER BY seq DESC";
  Statement select(db_, std::string("SELECT ") + kColumns + " FROM jobs WHERE " + where + " LIMIT ?2");
  select.bind(1, after_seq).bind(2, query.limit + 1);
  ListPage page;
  while (select.step()) page.jobs.push_back(row_to_record(select));
  if (!select.status()) return select.status();
  if (static_cast<int64_t>(page.jobs.size()) > query.limit) {
    page.jobs.pop_back();
    page.has_more = true;
  }
  return page;
}

Status SqliteJobStore::remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement erase(db_, "DELETE FROM jobs WHERE id = ?1");
  erase.bind(1, id);
  if (Status s = erase.run(); !s) return s;
  if (sqlite3_changes(db_) == 0) return not_found("No video found with id '" + id + "'");
  return Status::ok();
}

Expected<JobState> SqliteJobStore::state_locked(const std::string& id) {
  Statement select(db_, "SELECT state FROM jobs WHERE id = ?1");
  select.bind(1, id);
  if (!select.step()) {
    if (!select.status()) return select.status();
    return not_found("No video found with id '" + id + "'");
  }
  return parse_job_state(select.text_at(0)).value_or(JobState::kFailed);
}

Status SqliteJobStore::transition_locked(const std::string& id, JobState from, JobState to) {
  auto state = state_locked(id);
  if (!state) return state.error();
  if (*state != from) {
    return internal_error("job " + id + " is " + job_state_name(*state) + ", not " + job_state_name(from));
  }
  return check_transition(from, to);
}

Expected<std::optional<JobRecord>> SqliteJobStore::claim_next(
    const std::string& model, int64_t now, const std::vector<std::pair<std::string, int>>& tier_caps) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string skip;  // tiers at their cap of running jobs
  for (const auto& [tier, cap] : tier_caps) {
    if (cap == 0) continue;
    if (cap > 0) {  // a negative cap: not served here, skipped without counting
      Statement count(db_, "SELECT COUNT(*) FROM jobs WHERE state = 'in_progress' AND tier = ?1");
      count.bind(1, tier);
      if (!count.step()) return count.status();
      if (count.int64_at(0) < cap) continue;
    }
    if (!skip.empty()) skip += ",";
    skip += "'";
    for (char c : tier) skip += c == '\'' ? std::string("''") : std::string(1, c);  // SQL string literal
    skip += "'";
  }
  const std::string sql = "SELECT id FROM jobs WHERE state = 'queued' AND model = ?1" +
                          (skip.empty() ? std::string() : " AND tier NOT IN (" + skip + ")") +
                          " ORDER BY priority DESC, seq ASC LIMIT 1";
  Statement next(db_, sql);
  next.bind(1, model);
  if (!next.step()) {
    if (!next.status()) return next.status();
    return std::optional<JobRecord>();
  }
  const std::string id = next.text_at(0);
  if (Status s = check_transition(JobState::kQueued, JobState::kInProgress); !s) return s;
  Statement claim(db_,
                  "UPDATE jobs SET state = 'in_progress', attempts = attempts + 1, started_at = ?2, progress = 0 "
                  "WHERE id = ?1 AND state = 'queued'");
  claim.bind(1, id).bind(2, now);
  if (Status s = claim.run(); !s) return s;
  auto job = get_locked(id);
  if (!job) return job.error();
  return std::optional<JobRecord>(std::move(*job));
}

Status SqliteJobStore::update_progress(const std::string& id, double progress) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement update(db_, "UPDATE jobs SET progress = ?2 WHERE id = ?1 AND state = 'in_progress'");
  update.bind(1, id).bind(2, progress);
  if (Status s = update.run(); !s) return s;
  if (sqlite3_changes(db_) == 0) return not_found("job " + id + " is no longer running");
  return Status::ok();
}

Status SqliteJobStore::complete(const std::string& id, const JobResult& result, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (Status s = transition_locked(id, JobState::kInProgress, JobState::kCompleted); !s) return s;
  Statement update(db_,
                   "UPDATE jobs SET state = 'completed', progress = 100, completions = completions + 1, "
                   "completed_at = ?2, expires_at = ?3, compute_seconds = ?4, cost_usd = ?5, stages = ?6, " +
                       std::string(kWebhookDueNow) + " WHERE id = ?1 AND state = 'in_progress'");
  update.bind(1, id).bind(2, now).bind(3, result.expires_at).bind(4, result.compute_seconds);
  update.bind(5, result.cost_usd).bind(6, stages_json(result.stage_seconds)).bind(9, now);
  return update.run();
}

Status SqliteJobStore::fail(const std::string& id, const std::string& code, const std::string& message, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (Status s = transition_locked(id, JobState::kInProgress, JobState::kFailed); !s) return s;
  Statement update(db_,
                   "UPDATE jobs SET state = 'failed', completed_at = ?2, error_code = ?3, error_message = ?4, " +
                       std::string(kWebhookDueNow) + " WHERE id = ?1 AND state = 'in_progress'");
  update.bind(1, id).bind(2, now).bind(3, code).bind(4, message).bind(9, now);
  return update.run();
}

Status SqliteJobStore::hold(const std::string& id, const JobResult& result, const std::string& reason,
                           const std::string& review, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (Status s = transition_locked(id, JobState::kInProgress, JobState::kHeld); !s) return s;
  Statement update(db_,
                   "UPDATE jobs SET state = 'held_for_review', progress = 99, compute_seconds = ?2, cost_usd = ?3, "
                   "stages = ?4, hold_reason = ?5, review = ?6 WHERE id = ?1 AND state = 'in_progress'");
  update.bind(1, id).bind(2, result.compute_seconds).bind(3, result.cost_usd);
  update.bind(4, stages_json(result.stage_seconds)).bind(5, reason).bind(6, review);
  (void)now;
  return update.run();
}

Expected<std::vector<JobRecord>> SqliteJobStore::held_jobs(int64_t limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement select(db_, std::string("SELECT ") + kColumns +
                            " FROM jobs WHERE state = 'held_for_review' ORDER BY seq ASC LIMIT ?1");
  select.bind(1, limit);
  std::vector<JobRecord> jobs;
  while (select.step()) jobs.push_back(row_to_record(select));
  if (!select.status()) return select.status();
  return jobs;
}

Status SqliteJobStore::decide_review(const std::string& id, bool approve, const std::string& reason,
                                     const std::string& review, int64_t expires_at, int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto state = state_locked(id);
  if (!state) return state.error();
  if (*state != JobState::kHeld) {
    return invalid_argument("Video '" + id + "' is " + job_state_name(*state) + "; only a held video can be reviewed");
  }
  const JobState to = approve ? JobState::kCompleted : JobState::kFailed;
  if (Status s = check_transition(JobState::kHeld, to); !s) return s;
  const std::string set = approve ? "state = 'completed', progress = 100, completions = completions + 1, expires_at = ?3"
                                  : "state = 'failed', error_code = 'content_rejected', error_message = ?4, expires_at = 0";
  Statement update(db_, "UPDATE jobs SET " + set + ", completed_at = ?2, review = ?5, " + std::string(kWebhookDueNow) +
                            " WHERE id = ?1 AND state = 'held_for_review'");
  update.bind(1, id).bind(2, now).bind(5, review).bind(9, now);
  if (approve) {
    update.bind(3, expires_at);
  } else {
    update.bind(4, reason);
  }
  return update.run();
}

Expected<int64_t> SqliteJobStore::recover_interrupted() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (Status s = check_transition(JobState::kInProgress, JobState::kQueued); !s) return s;
  Statement update(db_, "UPDATE jobs SET state = 'queued', progress = 0 WHERE state = 'in_progress'");
  if (Status s = update.run(); !s) return s;
  return static_cast<int64_t>(sqlite3_changes(db_));
}

Expected<int64_t> SqliteJobStore::queue_position(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement position(db_,
                     "SELECT COUNT(*) FROM jobs AS other, jobs AS self WHERE self.id = ?1 AND self.state = 'queued' "
                     "AND other.state = 'queued' AND other.model = self.model AND (other.priority > self.priority OR "
                     "(other.priority = self.priority AND other.seq <= self.seq))");
  position.bind(1, id);
  if (!position.step()) return position.status();
  return position.int64_at(0);
}

Expected<std::vector<JobStore::TierQueue>> SqliteJobStore::queue_stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement select(db_,
                   "SELECT tier, SUM(state = 'queued'), SUM(state = 'in_progress'), "
                   "COALESCE(MIN(CASE WHEN state = 'queued' THEN created_at END), 0) FROM jobs GROUP BY tier");
  std::vector<TierQueue> tiers;
  while (select.step()) {
    tiers.push_back(TierQueue{select.text_at(0), select.int64_at(1), select.int64_at(2), select.int64_at(3)});
  }
  if (!select.status()) return select.status();
  return tiers;
}

Expected<std::vector<JobRecord>> SqliteJobStore::due_webhooks(int64_t now, int64_t limit) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement select(db_, std::string("SELECT ") + kColumns +
                            " FROM jobs WHERE webhook_state = 'pending' AND webhook_next_at <= ?1 AND state IN "
                            "('completed', 'failed') ORDER BY webhook_next_at, seq LIMIT ?2");
  select.bind(1, now).bind(2, limit);
  std::vector<JobRecord> jobs;
  while (select.step()) jobs.push_back(row_to_record(select));
  if (!select.status()) return select.status();
  return jobs;
}

Status SqliteJobStore::record_webhook_attempt(const std::string& id, WebhookState state, int64_t next_at) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement update(db_,
                   "UPDATE jobs SET webhook_state = ?2, webhook_attempts = webhook_attempts + 1, webhook_next_at = ?3 "
                   "WHERE id = ?1");
  update.bind(1, id).bind(2, std::string(webhook_state_name(state))).bind(3, next_at);
  if (Status s = update.run(); !s) return s;
  if (sqlite3_changes(db_) == 0) return not_found("No video found with id '" + id + "'");
  return Status::ok();
}

Expected<std::vector<std::string>> SqliteJobStore::expired_jobs(int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement select(db_, "SELECT id FROM jobs WHERE state IN ('completed', 'failed') AND expires_at > 0 AND expires_at <= ?1");
  select.bind(1, now);
  std::vector<std::string> ids;
  while (select.step()) ids.push_back(select.text_at(0));
  if (!select.status()) return select.status();
  return ids;
}

}  // namespace frugal::jobs
