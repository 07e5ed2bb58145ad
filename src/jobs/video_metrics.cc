#include "jobs/video_metrics.h"

namespace frugal::jobs {
namespace {

// Video jobs run from a second (a tiny draft) to hours (a long final on few cores).
std::vector<double> job_seconds_buckets() { return {0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200}; }
// A stage runs from milliseconds (one step of a tiny model) to an hour (a long VAE decode).
std::vector<double> stage_seconds_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1200, 3600};
}
std::vector<double> compute_seconds_buckets() { return {1, 5, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000}; }
std::vector<double> cost_usd_buckets() { return {0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}; }

}  // namespace

VideoMetrics register_video_metrics(MetricsRegistry& registry) {
  VideoMetrics m;
  m.queue_depth = registry.gauge("frugal_video_queue_depth", "Video jobs waiting in the queue", {"tier"});
  m.running = registry.gauge("frugal_video_jobs_running", "Video jobs being generated", {"tier"});
  m.oldest_age = registry.gauge("frugal_video_queue_oldest_age_seconds", "Age of the oldest queued video job", {"tier"});
  m.submitted = registry.counter("frugal_video_jobs_submitted_total", "Video jobs accepted", {"tier"});
  m.rejected = registry.counter("frugal_video_jobs_rejected_total", "Video submissions refused", {"reason"});
  m.outcomes = registry.counter("frugal_video_jobs_total", "Video jobs finished, by outcome", {"tier", "outcome"});
  m.queue_wait = registry.histogram("frugal_video_queue_wait_seconds", "Seconds a video job waited before it ran",
                                    job_seconds_buckets(), {"tier"});
  m.stage_seconds = registry.histogram("frugal_video_stage_seconds",
                                       "Seconds per pipeline stage (denoise_step: one sampler step)",
                                       stage_seconds_buckets(), {"stage"});
  m.job_seconds = registry.histogram("frugal_video_job_seconds", "Seconds from claim to completion of a video job",
                                     job_seconds_buckets(), {"tier"});
  m.compute_seconds = registry.histogram("frugal_video_compute_seconds", "Core-seconds per completed video",
                                         compute_seconds_buckets(), {"tier"});
  m.cost_usd = registry.histogram("frugal_video_cost_usd", "USD per completed video", cost_usd_buckets(), {"tier"});
  m.webhooks = registry.counter("frugal_video_webhooks_total", "Video webhook delivery attempts, by outcome", {"outcome"});
  return m;
}

void VideoMetrics::refresh_queues(const std::vector<std::string>& tiers, const std::vector<JobStore::TierQueue>& stats,
                                  int64_t now) const {
  for (const std::string& tier : tiers) {
    JobStore::TierQueue found{tier, 0, 0, 0};
    for (const JobStore::TierQueue& s : stats) {
      if (s.tier == tier) found = s;
    }
    queue_depth->with({tier}).set(static_cast<double>(found.queued));
    running->with({tier}).set(static_cast<double>(found.running));
    oldest_age->with({tier}).set(found.oldest_created_at > 0 ? static_cast<double>(now - found.oldest_created_at) : 0.0);
  }
}

void VideoMetrics::observe_completed(const JobRecord& job, const JobResult& result, int steps) const {
  const StageSeconds& s = result.stage_seconds;
  outcomes->with({job.tier, "completed"}).inc();
  queue_wait->with({job.tier}).observe(s.queue);
  stage_seconds->with({"text_encode"}).observe(s.text_encode);
  if (steps > 0) stage_seconds->with({"denoise_step"}).observe(s.denoise / steps);
  stage_seconds->with({"vae_decode"}).observe(s.vae_decode);
  stage_seconds->with({"mp4_encode"}).observe(s.mp4_encode);
  job_seconds->with({job.tier}).observe(s.total);
  compute_seconds->with({job.tier}).observe(result.compute_seconds);
  cost_usd->with({job.tier}).observe(result.cost_usd);
}

}  // namespace frugal::jobs
