#include "jobs/video_worker.h"

#include <algorithm>
#include <chrono>

#include "core/logging.h"
#include "jobs/job_output.h"
#include "trust/c2pa_manifest.h"
#include "trust/watermark_layout.h"
#include "trust/sha256.h"
#include "jobs/review.h"
#include "video/samplers/sampler_kind.h"

namespace frugal::jobs {
namespace {

using Clock = std::chrono::steady_clock;

// How long an idle worker sleeps before it looks at the store again (jobs submitted through this
// process wake it at once; the poll finds work another process queued).
constexpr std::chrono::milliseconds kIdlePoll{500};
// Expired files are swept at most this often.
constexpr int64_t kSweepEverySeconds = 60;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Progress in percent: text encode 0–2, denoise 2–90 by step, VAE decode 90–99 by latent frame;
// 100 only when the job is completed (its files stored).
double progress_percent(const video::VideoProgress& p) {
  const double fraction = p.n_steps > 0 ? static_cast<double>(p.step) / p.n_steps : 0.0;
  switch (p.stage) {
    case video::VideoStage::kTextEncode:
      return 2.0 * fraction;
    case video::VideoStage::kDenoise:
      return 2.0 + 88.0 * fraction;
    case video::VideoStage::kVaeDecode:
      return 90.0 + 9.0 * fraction;
  }
  return 0.0;
}

// The tier's speed settings (attention mode, step cache) as configured when the job runs.
Expected<video::VideoRequest> to_video_request(const JobRecord& job, const VideoServiceConfig* config) {
  video::VideoRequest request;
  request.prompt = job.prompt;
  request.negative_prompt = job.negative_prompt;
  request.width = job.width;
  request.height = job.height;
  request.frames = job.frames;
  request.steps = job.steps;
  auto sampler = video::parse_sampler_kind(job.sampler);
  if (!sampler) return sampler.error();
  request.sampler = *sampler;
  request.cfg = static_cast<float>(job.cfg);
  request.shift = static_cast<float>(job.shift);
  request.seed = job.seed;
  if (const TierPreset* tier = config != nullptr ? config->find_tier(job.tier) : nullptr) {
    request.attention = tier->attention;
    request.attention_warmup = tier->attention_warmup;
    request.step_cache = tier->step_cache;
    request.step_cache_mode = tier->step_cache_mode;
    request.step_cache_max_skips = tier->step_cache_max_skips;
    request.step_cache_uncond = tier->step_cache_uncond;
    request.step_cache_cond = tier->step_cache_cond;
    request.step_cache_uncond_max_skips = tier->step_cache_uncond_max_skips;
    request.step_cache_cfg_delta = tier->step_cache_cfg_delta;
    request.step_cache_start = tier->step_cache_start;
    request.step_cache_end = tier->step_cache_end;
    request.step_cache_stagger = tier->step_cache_stagger;
    request.step_cache_error_tol = tier->step_cache_error_tol;
    request.vae_mem_budget = tier->vae_mem_budget;
  }
  return request;
}

}  // namespace

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

VideoWorker::VideoWorker(std::string model_name, video::VideoPipeline& pipeline, const WorkerContext& context)
    : model_name_(std::move(model_name)), pipeline_(pipeline), context_(context) {}

VideoWorker::~VideoWorker() { stop(); }

void VideoWorker::start() { thread_ = std::thread([this] { loop(); }); }

void VideoWorker::stop() {
  stopping_.store(true);
  notify();
  if (thread_.joinable()) thread_.join();
}

void VideoWorker::drain(std::chrono::milliseconds grace) {
  draining_.store(true);
  notify();
  {
    std::unique_lock<std::mutex> lock(mutex_);
    loop_exit_.wait_for(lock, grace, [this] { return loop_done_ || !thread_.joinable(); });
  }
  stop();
}

void VideoWorker::notify() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  wake_.notify_all();
}

void VideoWorker::loop() {
  int64_t last_sweep = 0;
  while (!stopping_.load() && !draining_.load()) {
    const int64_t now = unix_now();
    if (now - last_sweep >= kSweepEverySeconds) {
      last_sweep = now;
      if (auto expired = context_.store->expired_jobs(now)) {
        for (const std::string& id : *expired) {
          (void)context_.store->remove(id);
          (void)context_.objects->remove_prefix(id);
        }
      }
      context_.objects->sweep_expired(now);
    }
    std::vector<std::pair<std::string, int>> caps;  // a negative cap: a tier this process does not run
    for (const TierPreset& tier : context_.config->tiers) {
      const auto& served = context_.served_tiers;
      const bool runs = served.empty() || std::find(served.begin(), served.end(), tier.name) != served.end();
      caps.emplace_back(tier.name, runs ? tier.concurrency : -1);
    }
    auto claimed = context_.store->claim_next(model_name_, now, caps);
    if (!claimed) log_error("video worker " + model_name_ + ": " + claimed.error().to_string());
    if (claimed && claimed->has_value()) {
      run_job(**claimed);
      continue;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, claimed ? kIdlePoll : std::chrono::milliseconds(1000), [this] { return woken_; });
    woken_ = false;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    loop_done_ = true;
  }
  loop_exit_.notify_all();
}

void VideoWorker::run_job(const JobRecord& job) {
  log_info("video job " + job.id + " started (tier " + job.tier + ", attempt " + std::to_string(job.attempts) + ")");
  context_.running->begin(job.id);
  failure_code_.clear();
  auto result = generate(job);
  const bool deleted = context_.running->cancelled(job.id);
  context_.running->end(job.id);
  if (!result) {
    if (stopping_.load() && !deleted) {
      if (Status s = context_.store->release(job.id); !s) {
        log_warn("video job " + job.id + " interrupted by shutdown; cannot release it (" + s.to_string() +
                 "): it runs again after its lease or at the next start");
      } else {
        log_info("video job " + job.id + " interrupted by shutdown; released to the queue");
      }
    } else if (deleted) {
      (void)context_.objects->remove_prefix(job.id);
      if (context_.metrics) context_.metrics->outcomes->with({job.tier, "cancelled"}).inc();
      audit_job_end(job, "cancelled", "deleted while running", nullptr);
      log_info("video job " + job.id + " cancelled");
    } else {
      finish_failed(job, result.error());
    }
    return;
  }
  if (result->hold_reason) {
    audit_job_end(job, "held_for_review", *result->hold_reason, &result->result);
    const Status held = context_.store->hold(job.id, result->result, *result->hold_reason, result->review, unix_now());
    if (!held) {  // deleted meanwhile (kNotFound), or the lease went to another worker: its files
      if (held.code() == StatusCode::kNotFound) (void)context_.objects->remove_prefix(job.id);
      log_info("video job " + job.id + " not held: " + held.to_string());
      return;
    }
    if (context_.metrics) context_.metrics->outcomes->with({job.tier, "held"}).inc();
    log_warn("video job " + job.id + " held for review: " + *result->hold_reason);
    return;
  }
  // The audit record is written before the completion commits: a crash in between reruns the job and
  // logs it again (at least once, never a completed job without its record).
  audit_job_end(job, "completed", result->read_back, &result->result);
  const Status completed = context_.store->complete(job.id, result->result, unix_now());
  if (!completed && completed.code() != StatusCode::kNotFound) {
    // The lease went to another worker (or the store is unreachable): that run stores the same
    // files and completes the job; these are left for it.
    log_warn("video job " + job.id + " not completed here: " + completed.to_string());
    return;
  }
  if (!completed) {  // deleted while its files were being stored: nobody can fetch them now
    (void)context_.objects->remove_prefix(job.id);
    if (context_.metrics) context_.metrics->outcomes->with({job.tier, "cancelled"}).inc();
    audit_job_end(job, "cancelled", "deleted while its files were stored", nullptr);
    log_info("video job " + job.id + " not completed: " + completed.to_string());
    return;
  }
  if (context_.webhooks != nullptr) context_.webhooks->notify();
  context_.estimates->record(job.tier, result->result.stage_seconds.total, result->result.cost_usd);
  if (context_.metrics) context_.metrics->observe_completed(job, result->result, job.steps);
  log_info("video job " + job.id + " completed");
}

void VideoWorker::finish_failed(const JobRecord& job, const Status& why) {
  const std::string code = !failure_code_.empty()                      ? failure_code_
                           : why.code() == StatusCode::kInvalidArgument ? "invalid_request"
                                                                        : "generation_failed";
  if (Status s = context_.store->fail(job.id, code, why.message(), unix_now()); !s) {
    log_warn("video job " + job.id + ": cannot record its failure: " + s.to_string());
  }
  if (context_.webhooks != nullptr) context_.webhooks->notify();
  if (context_.metrics) context_.metrics->outcomes->with({job.tier, "failed"}).inc();
  audit_job_end(job, "failed", code + ": " + why.message(), nullptr);
  log_warn("video job " + job.id + " failed: " + why.to_string());
}

void VideoWorker::audit_job_end(const JobRecord& job, const std::string& outcome, const std::string& detail,
                                const JobResult* result) {
  if (context_.audit == nullptr) return;
  trust::AuditEvent event;
  event.kind = "video_job";
  event.endpoint = job.remixed_from.empty() ? "/v1/videos" : "/v1/videos/" + job.remixed_from + "/remix";
  event.request_id = job.id;
  event.key_id = job.api_key_hash;
  event.prompt = job.prompt;
  event.model = job.model;
  event.tier = job.tier;
  event.seed = job.seed;
  event.outcome = outcome;
  event.checks.push_back({"tier_admission", "pass", "tier " + job.tier + ", priority " + std::to_string(job.priority)});
  event.checks.push_back({"attempts", "info", std::to_string(job.attempts)});
  if (!job.negative_prompt.empty()) {
    event.checks.push_back({"negative_prompt", "info", "sha256 " + trust::sha256_hex(job.negative_prompt)});
  }
  if (outcome == "completed") {
    if (!detail.empty()) event.checks.push_back({"watermark_read_back", "pass", detail});
  } else if (outcome == "held_for_review") {
    event.checks.push_back({"post_checks", "hold", detail});
  } else if (outcome != "completed") {
    event.checks.push_back({"generation", outcome == "failed" ? "fail" : "skip", detail});
  }
  if (result != nullptr) {
    event.cost_usd = result->cost_usd;
    auto mp4 = context_.objects->get(*job_object_key(job.id, "video"), unix_now());
    auto digest = mp4 ? Expected<std::string>(trust::sha256_hex(*mp4)) : Expected<std::string>(mp4.error());
    if (digest) {
      event.output_sha256 = *digest;
    } else {
      event.checks.push_back({"output_hash", "fail", digest.error().message()});
    }
  }
  if (Status s = context_.audit->record(event); !s) log_error("audit log: video job " + job.id + ": " + s.to_string());
}

Expected<VideoWorker::Generated> VideoWorker::generate(const JobRecord& job) {
  const auto claimed = Clock::now();
  auto request = to_video_request(job, context_.config);
  if (!request) return request.error();
  if (Status s = pipeline_.validate(*request); !s) return s;
  std::function<Status(const std::string&)> provenance;
  if (context_.c2pa) {
    trust::ProvenanceInfo info;
    info.software_version = context_.software_version;
    info.model = model_name_;
    info.title = "video.mp4";
    // Frames below the mark's minimum side are stored unmarked (job_output.cc): no soft binding then.
    if (context_.watermark_key != nullptr && job.width >= trust::kWatermarkMinSide &&
        job.height >= trust::kWatermarkMinSide) {
      info.watermark = trust::frugal_watermark_binding(trust::watermark_payload_for(*context_.watermark_key, job.id));
    }
    provenance = trust::c2pa_before_publish(context_.c2pa, std::move(info));
  }
  auto output = JobOutput::open(*context_.objects, job.id, "attempt" + std::to_string(job.attempts), job.width,
                                job.height, job.frames, pipeline_.info().fps, context_.watermark_key, std::move(provenance));
  if (!output) return output.error();
  // Post-checks, or a moderation "hold" at submit: both park the finished video for a reviewer.
  const bool checked = (context_.post_checks != nullptr && !context_.post_checks->empty()) || !job.moderation_hold.empty();
  if (checked) (*output)->sample_every(std::max<int64_t>(1, context_.check_every_frames));
  video::VideoCallbacks callbacks;
  double last_progress = -1;
  callbacks.on_progress = [&](const video::VideoProgress& p) {
    const double percent = progress_percent(p);
    if (percent - last_progress < 1.0) return;  // one durable write per percent at most
    last_progress = percent;
    (void)context_.store->update_progress(job.id, percent);
  };
  callbacks.on_frames = [&](const float* frames, int64_t n) { return (*output)->write_frames(frames, n); };
  callbacks.cancelled = [&] { return stopping_.load() || context_.running->cancelled(job.id); };
  auto stats = pipeline_.generate(*request, callbacks);
  if (!stats) return stats.error();
  if (callbacks.cancelled()) return Status(StatusCode::kCancelled, "cancelled");
  const auto storing = Clock::now();
  Generated generated;
  JobResult& result = generated.result;
  result.expires_at = unix_now() + context_.config->retention_seconds;
  std::vector<trust::CheckOutcome> outcomes;
  const bool marked = context_.watermark_key != nullptr && job.width >= trust::kWatermarkMinSide &&
                      job.height >= trust::kWatermarkMinSide;
  if (context_.watermark_read_back != nullptr && marked) {
    // Before anything is stored: the MP4 as it will be served (encoded, C2PA-signed) must carry
    // this job's mark. Reading is deterministic, so a rerun would fail the same way: the job fails.
    if (Status s = (*output)->finish(); !s) return s;
    auto read = context_.watermark_read_back->verify(job.id, (*output)->mp4_path(), static_cast<int>(job.width),
                                                     static_cast<int>(job.height));
    if (!read || read->hold) failure_code_ = "watermark_failed";
    if (!read) return Status(StatusCode::kInternal, "watermark read-back could not run: " + read.error().message());
    if (read->hold) return Status(StatusCode::kDataLoss, "watermark read-back failed: " + read->detail);
    generated.read_back = read->detail;
  }
  if (checked) {
    if (Status s = (*output)->finish(); !s) return s;
    const trust::PostCheckInput input{job.id, job.prompt, (*output)->samples(), (*output)->mp4_path()};
    if (context_.post_checks != nullptr) outcomes = trust::run_post_checks(*context_.post_checks, input);
    if (!job.moderation_hold.empty()) outcomes.push_back(trust::CheckOutcome{"moderation", true, job.moderation_hold});
    if (trust::any_hold(outcomes)) generated.hold_reason = hold_reason_of(outcomes);
  }
  // A held job's files wait for the reviewer: no expiry until the decision.
  if (Status s = (*output)->store(generated.hold_reason ? 0 : result.expires_at); !s) return s;
  if (generated.hold_reason) {
    auto frames = store_review_frames(*context_.objects, job.id, (*output)->samples());
    if (!frames) return frames.error();
    generated.review = review_json(outcomes, *frames);
  }
  result.compute_seconds = stats->compute_seconds;
  result.cost_usd = stats->compute_seconds * context_.usd_per_core_second;
  StageSeconds& stages = result.stage_seconds;
  stages.queue = static_cast<double>(std::max<int64_t>(0, job.started_at - job.created_at));
  stages.text_encode = stats->text_encode_seconds;
  stages.denoise = stats->denoise_seconds;
  stages.vae_decode = stats->vae_decode_seconds;
  stages.mp4_encode = seconds_since(storing);
  stages.total = seconds_since(claimed);
  return generated;
}

}  // namespace frugal::jobs
