// The video service's Prometheus metrics (jobs layer). Every name, its type and who updates it:
//   frugal_video_queue_depth{tier}               gauge     queued jobs (refreshed at each scrape)
//   frugal_video_jobs_running{tier}              gauge     in-progress jobs (refreshed at each scrape)
//   frugal_video_queue_oldest_age_seconds{tier}  gauge     age of the oldest queued job (each scrape)
//   frugal_video_jobs_submitted_total{tier}      counter   accepted submissions (service)
//   frugal_video_jobs_rejected_total{reason}     counter   refused submissions: queue_full | per_key_limit (service)
//   frugal_video_jobs_total{tier,outcome}        counter   finished jobs: completed | failed | cancelled (worker)
//   frugal_video_queue_wait_seconds{tier}        histogram created → claimed (worker)
//   frugal_video_stage_seconds{stage}            histogram text_encode | denoise_step | vae_decode | mp4_encode (worker)
//   frugal_video_job_seconds{tier}               histogram claimed → completed (worker)
//   frugal_video_compute_seconds{tier}           histogram core-seconds per completed video (worker)
//   frugal_video_cost_usd{tier}                  histogram USD per completed video (worker)
//   frugal_video_webhooks_total{outcome}         counter   webhook attempts: delivered | retried | abandoned (dispatcher)
#pragma once

#include <string>
#include <vector>

#include "jobs/job.h"
#include "jobs/job_store.h"
#include "metrics/metrics.h"

namespace frugal::jobs {

struct VideoMetrics {
  GaugeFamily* queue_depth = nullptr;
  GaugeFamily* running = nullptr;
  GaugeFamily* oldest_age = nullptr;
  CounterFamily* submitted = nullptr;
  CounterFamily* rejected = nullptr;
  CounterFamily* outcomes = nullptr;
  HistogramFamily* queue_wait = nullptr;
  HistogramFamily* stage_seconds = nullptr;
  HistogramFamily* job_seconds = nullptr;
  HistogramFamily* compute_seconds = nullptr;
  HistogramFamily* cost_usd = nullptr;
  CounterFamily* webhooks = nullptr;

  // Sets the queue gauges of every tier named in `tiers` (0 for tiers with no jobs).
  void refresh_queues(const std::vector<std::string>& tiers, const std::vector<JobStore::TierQueue>& stats,
                      int64_t now) const;
  // A completed job's stage timings, seconds per step, compute-seconds and cost.
  void observe_completed(const JobRecord& job, const JobResult& result, int steps) const;
};

VideoMetrics register_video_metrics(MetricsRegistry& registry);

}  // namespace frugal::jobs
