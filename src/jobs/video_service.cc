#include "jobs/video_service.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "core/logging.h"
#include "jobs/job_output.h"
#include "jobs/review.h"

namespace frugal::jobs {

VideoService::VideoService(VideoServiceOptions options, std::vector<ServedVideoModel> models,
                           std::unique_ptr<JobStore> store, std::unique_ptr<storage::ObjectStore> objects,
                           MetricsRegistry* registry)
    : options_(std::move(options)), models_(std::move(models)), store_(std::move(store)), objects_(std::move(objects)) {
  if (registry != nullptr) metrics_ = register_video_metrics(*registry);
}

VideoService::~VideoService() { stop(); }

std::vector<std::string> VideoService::model_names() const {
  std::vector<std::string> names;
  for (const ServedVideoModel& model : models_) names.push_back(model.name);
  return names;
}

Status VideoService::start() {
  if (!options_.run_workers) {
    if (options_.webhook && !webhooks_) {
      webhooks_ = std::make_unique<WebhookDispatcher>(*store_, *options_.webhook, options_.webhook_delivery,
                                                      metrics_ ? &*metrics_ : nullptr);
      webhooks_->start();
    }
    return Status::ok();
  }
  auto recovered = store_->recover_interrupted();
  if (!recovered) return recovered.error();
  if (*recovered > 0) log_info("video service: " + std::to_string(*recovered) + " interrupted job(s) queued again");
  const int cores = options_.machine_cores > 0 ? options_.machine_cores
                                               : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  WorkerContext context;
  context.store = store_.get();
  context.objects = objects_.get();
  context.config = &options_.config;
  context.metrics = metrics_ ? &*metrics_ : nullptr;
  context.running = &running_;
  context.estimates = &estimates_;
  context.usd_per_core_second = options_.usd_per_hour / 3600.0 / cores;
  context.c2pa = options_.c2pa;
  context.software_version = options_.software_version;
  context.watermark_key = options_.watermark_key ? &*options_.watermark_key : nullptr;
  if (options_.watermark_key && options_.read_back_watermark && !read_back_) {
    read_back_.emplace(*options_.watermark_key, options_.watermark_check_min_side);
  }
  context.watermark_read_back = read_back_ ? &*read_back_ : nullptr;
  if (options_.webhook && !webhooks_) {
    webhooks_ = std::make_unique<WebhookDispatcher>(*store_, *options_.webhook, options_.webhook_delivery,
                                                    metrics_ ? &*metrics_ : nullptr);
    webhooks_->start();  // first: it delivers what a previous process left pending
  }
  context.webhooks = webhooks_.get();
  context.audit = options_.audit;
  context.post_checks = &options_.post_checks;
  context.check_every_frames = options_.check_every_frames;
  context.served_tiers = options_.served_tiers;
  for (ServedVideoModel& model : models_) {
    if (!model.pipeline) continue;  // named only (an API node)
    workers_.push_back(std::make_unique<VideoWorker>(model.name, *model.pipeline, context));
    workers_.back()->start();
  }
  return Status::ok();
}

void VideoService::drain(std::chrono::milliseconds grace) {
  std::vector<std::thread> draining;  // every model's worker finishes its job at the same time
  for (auto& worker : workers_) draining.emplace_back([&worker, grace] { worker->drain(grace); });
  for (std::thread& thread : draining) thread.join();
  stop();
}

void VideoService::stop() {
  for (auto& worker : workers_) worker->stop();
  workers_.clear();
  if (webhooks_) webhooks_->stop();  // after the workers: the events of their last jobs are in the store
}

VideoView VideoService::view_of(JobRecord job) {
  VideoView view;
  if (auto estimate = estimates_.get(job.tier)) {
    view.predicted_seconds = estimate->seconds;
    view.predicted_cost_usd = estimate->cost_usd;
  }
  const int64_t now = unix_now();
  switch (job.state) {
    case JobState::kQueued: {
      auto position = store_->queue_position(job.id);
      view.queue_position = position ? *position : 0;
      // Each job ahead (and the one running) takes about a tier's time; this one then runs.
      if (view.predicted_seconds) view.eta_seconds = *view.predicted_seconds * static_cast<double>(view.queue_position + 1);
      break;
    }
    case JobState::kInProgress: {
      const double elapsed = static_cast<double>(std::max<int64_t>(0, now - job.started_at));
      if (job.progress >= 5) {
        view.eta_seconds = elapsed * (100.0 - job.progress) / job.progress;
      } else if (view.predicted_seconds) {
        view.eta_seconds = std::max(0.0, *view.predicted_seconds - elapsed);
      }
      break;
    }
    case JobState::kHeld:  // waits for a person: no estimate
      break;
    case JobState::kCompleted:
    case JobState::kFailed:
      view.eta_seconds = 0;
      break;
  }
  view.job = std::move(job);
  return view;
}

std::variant<SubmitOutcome, SpecError> VideoService::enqueue(JobRecord job) {
  SubmitOptions options;
  options.max_queued = options_.config.max_queued;
  options.max_active_per_key = options_.config.max_active_per_key;
  if (options_.webhook) job.webhook_state = WebhookState::kWaiting;
  SubmitInfo info;
  auto stored = store_->submit(job, options, &info);
  if (!stored) {
    if (metrics_ && info.refusal != SubmitInfo::Refusal::kNone) {
      metrics_->rejected->with({info.refusal == SubmitInfo::Refusal::kPerKeyLimit ? "per_key_limit" : "queue_full"}).inc();
    }
    return SpecError{stored.error(), ""};
  }
  const bool existing = info.existing;
  if (!existing) {
    if (metrics_) metrics_->submitted->with({job.tier}).inc();
    for (auto& worker : workers_) worker->notify();
  }
  return SubmitOutcome{view_of(std::move(*stored)), existing};
}

std::variant<SubmitOutcome, SpecError> VideoService::submit(const VideoCreateParams& params) {
  auto resolved = resolve_job_spec(params, options_.config, model_names(), unix_now());
  if (auto* error = std::get_if<SpecError>(&resolved)) return *error;
  return enqueue(std::get<JobRecord>(resolved));
}

std::variant<SubmitOutcome, SpecError> VideoService::remix(const std::string& source_id, const VideoCreateParams& params) {
  auto source = store_->get(source_id);
  if (!source) return SpecError{source.error(), ""};
  if (source->state != JobState::kCompleted) {
    return SpecError{invalid_argument("Video '" + source_id + "' is " + job_state_name(source->state) +
                                      "; only a completed video can be remixed"),
                     ""};
  }
  VideoCreateParams remix = params;
  remix.model = source->model;
  remix.tier = params.tier.value_or(source->tier);
  remix.size = source->size;
  remix.seconds = source->seconds;
  remix.seed = params.seed.value_or(source->seed);
  remix.remixed_from = source_id;
  return submit(remix);
}

Expected<VideoView> VideoService::get(const std::string& id) {
  auto job = store_->get(id);
  if (!job) return job.error();
  return view_of(std::move(*job));
}

Expected<std::pair<std::vector<VideoView>, bool>> VideoService::list(const ListQuery& query) {
  auto page = store_->list(query);
  if (!page) return page.error();
  std::vector<VideoView> views;
  for (JobRecord& job : page->jobs) views.push_back(view_of(std::move(job)));
  return std::make_pair(std::move(views), page->has_more);
}

Status VideoService::remove(const std::string& id) {
  auto job = store_->get(id);
  if (!job) return job.error();
  if (Status s = store_->remove(id); !s) return s;  // durable first: a restart will not run it
  running_.cancel(id);
  (void)objects_->remove_prefix(id);
  if (metrics_ && job->state == JobState::kQueued) metrics_->outcomes->with({job->tier, "cancelled"}).inc();
  return Status::ok();
}

Expected<std::string> VideoService::content(const std::string& id, const std::string& variant) {
  const std::optional<std::string> key = job_object_key(id, variant);
  if (!key) return invalid_argument("variant must be video, thumbnail or spritesheet, not '" + variant + "'");
  auto job = store_->get(id);
  if (!job) return job.error();
  if (job->state != JobState::kCompleted) {
    return not_found("Video '" + id + "' is " + api_state_name(job->state) + "; its content exists once it is completed");
  }
  return objects_->get(*key, unix_now());
}

Expected<std::string> VideoService::content_url(const std::string& id, const std::string& variant, int64_t ttl_seconds) {
  const std::optional<std::string> key = job_object_key(id, variant);
  if (!key) return invalid_argument("variant must be video, thumbnail or spritesheet, not '" + variant + "'");
  auto job = store_->get(id);
  if (!job) return job.error();
  if (job->state != JobState::kCompleted) return not_found("Video '" + id + "' is not completed");
  const int64_t now = unix_now();
  if (job->expires_at > 0) ttl_seconds = std::min(ttl_seconds, job->expires_at - now);
  if (ttl_seconds <= 0) return not_found("Video '" + id + "' has expired");
  return objects_->download_url(*key, ttl_seconds, now);
}

Expected<std::vector<JobRecord>> VideoService::review_queue(int64_t limit) { return store_->held_jobs(limit); }

Expected<std::string> VideoService::review_frame(const std::string& id, int64_t frame_index) {
  auto job = store_->get(id);
  if (!job) return job.error();
  for (int64_t index : review_frames(job->review)) {
    if (index == frame_index) return objects_->get(review_frame_key(id, frame_index), unix_now());
  }
  return not_found("Video '" + id + "' has no sampled frame " + std::to_string(frame_index));
}

Expected<std::string> VideoService::review_content(const std::string& id, const std::string& variant) {
  const std::optional<std::string> key = job_object_key(id, variant);
  if (!key) return invalid_argument("variant must be video, thumbnail or spritesheet, not '" + variant + "'");
  auto job = store_->get(id);
  if (!job) return job.error();
  return objects_->get(*key, unix_now());
}

Status VideoService::decide_review(const std::string& id, bool approve, const std::string& reason,
                                   const std::string& reviewer) {
  if (!approve && reason.empty()) return invalid_argument("A rejection needs a 'reason'");
  auto job = store_->get(id);
  if (!job) return job.error();
  const int64_t now = unix_now();
  const std::string review = review_with_decision(job->review, approve, reason, reviewer, now);
  // Files stored while held have no expiry; the job row's expires_at removes them after approval.
  const int64_t expires_at = now + options_.config.retention_seconds;
  if (Status s = store_->decide_review(id, approve, reason, review, expires_at, now); !s) return s;
  if (!approve) (void)objects_->remove_prefix(id);  // after the durable decision: nobody can approve it now
  audit_review(*job, approve, reason, reviewer);
  if (webhooks_) webhooks_->notify();
  if (metrics_) metrics_->outcomes->with({job->tier, approve ? "approved" : "rejected"}).inc();
  log_info("video job " + id + (approve ? " approved" : " rejected") + " by reviewer " + reviewer +
           (reason.empty() ? "" : ": " + reason));
  return Status::ok();
}

void VideoService::audit_review(const JobRecord& job, bool approve, const std::string& reason,
                                const std::string& reviewer) {
  if (options_.audit == nullptr) return;
  trust::AuditEvent event;
  event.kind = "video_review";
  event.endpoint = "/v1/review/videos/" + job.id + (approve ? "/approve" : "/reject");
  event.request_id = job.id;
  event.key_id = reviewer;
  event.prompt = job.prompt;
  event.model = job.model;
  event.tier = job.tier;
  event.seed = job.seed;
  event.outcome = approve ? "approved" : "rejected";
  event.checks.push_back({"hold", "info", job.hold_reason});
  event.checks.push_back({"review", approve ? "pass" : "block", approve ? "approved" : reason});
  if (Status s = options_.audit->record(event); !s) log_error("audit log: review of " + job.id + ": " + s.to_string());
}

int VideoService::retry_after_seconds() const {
  std::optional<double> quickest;
  for (const TierPreset& tier : options_.config.tiers) {
    if (auto estimate = estimates_.get(tier.name)) quickest = std::min(quickest.value_or(estimate->seconds), estimate->seconds);
  }
  if (!quickest) return kDefaultRetryAfterSeconds;
  return static_cast<int>(std::clamp(std::ceil(*quickest), 1.0, 3600.0));
}

void VideoService::refresh_gauges() {
  if (!metrics_) return;
  auto stats = store_->queue_stats();
  if (!stats) return;
  std::vector<std::string> tiers;
  for (const TierPreset& tier : options_.config.tiers) tiers.push_back(tier.name);
  metrics_->refresh_queues(tiers, *stats, unix_now());
}

}  // namespace frugal::jobs
