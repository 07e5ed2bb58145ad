// VideoService: text-to-video as durable jobs (jobs layer) — what the HTTP routes call. It resolves
// requests into jobs (tiers, seconds/size → frames/pixels), submits them to the JobStore (bounded:
// kResourceExhausted when the queue is full), runs one VideoWorker per served model, answers with
// queue position, ETA and cost, cancels on delete, serves the stored files, and (with a webhook
// endpoint) announces each job's end through a WebhookDispatcher.
// Threading contract: every public method but start()/stop() is safe from any thread; start() once,
// stop() once (the destructor calls it).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "jobs/job_spec.h"
#include "jobs/job_store.h"
#include "jobs/running_jobs.h"
#include "jobs/tier_estimates.h"
#include "jobs/video_metrics.h"
#include "jobs/video_tiers.h"
#include "jobs/video_worker.h"
#include "jobs/webhook_dispatcher.h"
#include "metrics/metrics.h"
#include "storage/object_store.h"
#include "trust/watermark_check.h"
#include "trust/watermark_key.h"
#include "video/pipeline/video_pipeline.h"

namespace frugal::jobs {

struct ServedVideoModel {
  std::string name;
  std::unique_ptr<video::VideoPipeline> pipeline;
};

struct VideoServiceOptions {
  VideoServiceConfig config = default_video_service_config();
  double usd_per_hour = 0;  // the server's price; 0: costs stay 0
  int machine_cores = 0;    // the cores that price buys; 0: std::thread::hardware_concurrency()
  // Where video.completed / video.failed events go (webhook_dispatcher.h); nullopt: nowhere.
  std::optional<webhooks::WebhookSender> webhook;
  WebhookDispatcherOptions webhook_delivery;
  // C2PA provenance signed into every finished MP4 (trust/c2pa_manifest.h); null: none.
  std::shared_ptr<const trust::SigningCredentials> c2pa;
  std::string software_version;  // frugal's version, as the manifests name it
  // The invisible watermark's key (docs/design/trust-watermark.md): every frame of every job is
  // marked with HMAC(key, job id) before encoding. nullopt: videos are not marked.
  std::optional<trust::WatermarkKey> watermark_key;
  // With a key: read each finished MP4's mark back before release (trust/watermark_check.h); a video
  // that does not carry its job's payload fails its job ("watermark_failed") and is never stored.
  // Videos whose short side is under watermark_check_min_side pass unchecked (with a note).
  bool read_back_watermark = true;
  int watermark_check_min_side = trust::kWatermarkReliableSide;
  // Where every job's end is recorded (trust/audit_log.h); null: nowhere. Outlives the service.
  trust::AuditSink* audit = nullptr;
  // Post-generation checks before a video is released (docs/design/trust-review.md): a flagged
  // video waits for a reviewer. Empty: every video is released as it finishes.
  trust::PostChecks post_checks;
  int64_t check_every_frames = 8;  // the checks see frames 0, k, 2k, ...
  // false: a stateless API node (`frugal serve --no-video-workers`): it accepts jobs, answers status
  // and serves files, and runs none; `frugal worker` processes sharing its job store run them (the
  // models need no pipeline then).
  bool run_workers = true;
  std::vector<std::string> served_tiers;  // the tiers the workers claim (`frugal worker --tiers`); empty: all
};

// A job as the API shows it: the record plus what is derived at read time.
struct VideoView {
  JobRecord job;
  int64_t queue_position = 0;                // 1-based among queued jobs of its model; 0 unless queued
  std::optional<double> eta_seconds;         // until completed; nullopt while no estimate exists
  std::optional<double> predicted_seconds;   // the tier's learned time (claim → completed)
  std::optional<double> predicted_cost_usd;  // the tier's learned cost
};

struct SubmitOutcome {
  VideoView view;
  bool existing = false;  // an Idempotency-Key replay: the job was submitted before
};

class VideoService {
 public:
  VideoService(VideoServiceOptions options, std::vector<ServedVideoModel> models, std::unique_ptr<JobStore> store,
               std::unique_ptr<storage::ObjectStore> objects, MetricsRegistry* registry);
  ~VideoService();
  VideoService(const VideoService&) = delete;
  VideoService& operator=(const VideoService&) = delete;

  // Requeues the jobs a previous process left in_progress, then starts the workers (neither
  // without run_workers).
  Status start();
  void stop();
  // SIGTERM of `frugal worker`: claims nothing more, lets running jobs finish for up to `grace`,
  // then cancels and releases the rest (JobStore::release) and stops. No job is lost.
  void drain(std::chrono::milliseconds grace);

  std::variant<SubmitOutcome, SpecError> submit(const VideoCreateParams& params);
  // A new job with the source's settings (tier, model, size, seconds) and the new prompt.
  std::variant<SubmitOutcome, SpecError> remix(const std::string& source_id, const VideoCreateParams& params);
  Expected<VideoView> get(const std::string& id);
  Expected<std::pair<std::vector<VideoView>, bool>> list(const ListQuery& query);
  // Deletes the job and its files; a running job is cancelled. kNotFound when absent.
  Status remove(const std::string& id);
  // A finished job's file: variant video | thumbnail | spritesheet. kInvalidArgument for another
  // variant; kNotFound when the job is absent, not completed, or its files expired.
  Expected<std::string> content(const std::string& id, const std::string& variant);

  // Human review (the reviewer routes). The queue: held jobs, oldest first, at most `limit`.
  // A completed job's file as a direct download URL valid for `ttl_seconds` (at most until the job
  // expires), when the object store offers them (S3: presigned); kUnimplemented for the local store.
  Expected<std::string> content_url(const std::string& id, const std::string& variant, int64_t ttl_seconds);
  Expected<std::vector<JobRecord>> review_queue(int64_t limit);
  // A held job's sampled frame as PNG, or its video / thumbnail / spritesheet, for the reviewer only.
  // kNotFound when the job or the frame is absent.
  Expected<std::string> review_frame(const std::string& id, int64_t frame_index);
  Expected<std::string> review_content(const std::string& id, const std::string& variant);
  // Approve: the job completes and its files are released (expiring after the retention from now).
  // Reject: the job fails with code content_rejected and `reason`, its files are deleted.
  // kNotFound when absent; kInvalidArgument when not held (or a rejection without a reason).
  Status decide_review(const std::string& id, bool approve, const std::string& reason, const std::string& reviewer);

  // When a full queue has room again: about one video of the quickest tier, learned (1..3600 s;
  // kDefaultRetryAfterSeconds before any video completed).
  int retry_after_seconds() const;
  static constexpr int kDefaultRetryAfterSeconds = 5;

  void refresh_gauges();
  const VideoServiceConfig& config() const { return options_.config; }
  std::vector<std::string> model_names() const;
  double usd_per_hour() const { return options_.usd_per_hour; }

 private:
  // Appends the reviewer's decision to the audit log as a "video_review" record.
  void audit_review(const JobRecord& job, bool approve, const std::string& reason, const std::string& reviewer);
  VideoView view_of(JobRecord job);
  std::variant<SubmitOutcome, SpecError> enqueue(JobRecord job);

  VideoServiceOptions options_;
  std::vector<ServedVideoModel> models_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<storage::ObjectStore> objects_;
  std::optional<VideoMetrics> metrics_;
  RunningJobs running_;
  std::optional<trust::WatermarkReadBackCheck> read_back_;  // set in start() when options ask for it
  TierEstimates estimates_;
  std::unique_ptr<WebhookDispatcher> webhooks_;  // null without options_.webhook
  std::vector<std::unique_ptr<VideoWorker>> workers_;
};

}  // namespace frugal::jobs
