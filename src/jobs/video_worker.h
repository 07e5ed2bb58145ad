// VideoWorker: the loop that runs one served video model's jobs (jobs layer). It claims the next
// job (tier priority, then age; tiers at their concurrency cap skipped), runs the pipeline with
// progress written to the store, streams the frames into the MP4, runs the post-generation checks
// (trust/post_check.h) when configured, reads the watermark back from the finished MP4 (a failure
// fails the job: an unmarked video is never released), stores the files, then marks the job completed, or held
// for review when a check flagged it (docs/design/trust-review.md). The files are stored before the
// commit, so a job seen completed (or held) always has its files, and a crash before the commit
// reruns the job from the start (exactly one completion; see docs/design/video-service.md).
// Threading contract: start() and stop() from one thread; the loop runs on its own thread; the
// pipeline is used by this worker only.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_store.h"
#include "jobs/running_jobs.h"
#include "jobs/tier_estimates.h"
#include "jobs/video_metrics.h"
#include "jobs/video_tiers.h"
#include "jobs/webhook_dispatcher.h"
#include "storage/object_store.h"
#include "trust/signing_credentials.h"
#include "trust/watermark_check.h"
#include "trust/watermark_key.h"
#include "trust/audit_sink.h"
#include "trust/post_check.h"
#include "video/pipeline/video_pipeline.h"

namespace frugal::jobs {

// What every worker of a service shares (all owned by the service, outliving the workers).
struct WorkerContext {
  JobStore* store = nullptr;
  storage::ObjectStore* objects = nullptr;
  const VideoServiceConfig* config = nullptr;
  const VideoMetrics* metrics = nullptr;  // null: no metrics
  RunningJobs* running = nullptr;
  TierEstimates* estimates = nullptr;
  double usd_per_core_second = 0;         // the server's price per hour / 3600 / its cores
  WebhookDispatcher* webhooks = nullptr;  // null: no webhook endpoint; woken when a job ends
  std::shared_ptr<const trust::SigningCredentials> c2pa;  // null: MP4s carry no C2PA manifest
  std::string software_version;
  const trust::WatermarkKey* watermark_key = nullptr;  // null: frames are not watermarked
  // The read-back of every marked video before release (trust/watermark_check.h): a video whose mark
  // is not read back, or is not its job's, fails the job (code "watermark_failed") and is never
  // stored. Null: not read back.
  const trust::WatermarkReadBackCheck* watermark_read_back = nullptr;
  trust::AuditSink* audit = nullptr;      // null: no audit log; told every job's end (completed/failed/cancelled)
  // Post-generation checks (trust/post_check.h) run on every check_every_frames-th frame before a
  // job is released; any hold parks the job in the review queue. Null or empty: none.
  const trust::PostChecks* post_checks = nullptr;
  int64_t check_every_frames = 8;
  // The tiers this process runs (`frugal worker --tiers`); empty: all of the config's.
  std::vector<std::string> served_tiers;
};

// Seconds since the epoch (the jobs' clock).
int64_t unix_now();

class VideoWorker {
 public:
  VideoWorker(std::string model_name, video::VideoPipeline& pipeline, const WorkerContext& context);
  ~VideoWorker();
  void start();
  // Stops after the running job is cancelled; the store releases it (JobStore::release: the Redis
  // store queues it again at once; SQLite keeps it in_progress for the next start to requeue).
  void stop();
  // Claims nothing more and lets the running job finish for up to `grace`, then stop()s.
  void drain(std::chrono::milliseconds grace);
  // Wakes the loop (a job was submitted).
  void notify();

 private:
  void loop();
  void run_job(const JobRecord& job);
  // What a successful generation produced: its result, and a hold when a post-check flagged it.
  struct Generated {
    JobResult result;
    std::optional<std::string> hold_reason;  // set: held for review
    std::string review;                      // the review JSON (jobs/review.h) when held
    std::string read_back;                   // the watermark read-back's note ("" when not read back)
  };
  // The generation itself and its post-checks: files stored, or the Status why not.
  Expected<Generated> generate(const JobRecord& job);
  std::string failure_code_;  // the API error code generate() chose for its failure ("": by Status code)
  void finish_failed(const JobRecord& job, const Status& why);
  // One audit record for a job's end (no-op without an audit sink). output_sha256: the MP4's digest.
  void audit_job_end(const JobRecord& job, const std::string& outcome, const std::string& detail,
                     const JobResult* result);

  std::string model_name_;
  video::VideoPipeline& pipeline_;
  WorkerContext context_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> draining_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool loop_done_ = false;             // under mutex_: the loop returned
  std::condition_variable loop_exit_;  // signalled when it does
  std::thread thread_;
};

}  // namespace frugal::jobs
