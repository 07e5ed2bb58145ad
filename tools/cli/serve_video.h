// The video half of `frugal serve` (tools layer): --video-model NAME=DIR (or DIR, named by its
// folder), repeated; --video-tiers FILE (jobs/video_tiers.h); --video-state DIR, where the job
// database (jobs.sqlite) and the finished files (objects/) live; --video-max-queue N;
// --video-max-queued-per-key N (a bearer token's queued + running jobs; no token is one key);
// --video-webhook-url URL with --video-webhook-secret whsec_… (or $FRUGAL_VIDEO_WEBHOOK_SECRET, kept
// out of `ps`): video.completed / video.failed events, Standard Webhooks signatures; --object-store
// s3://BUCKET/PREFIX?endpoint=...: the finished files in an S3-compatible bucket instead of
// <video-state>/files (storage/s3_config.h; the bucket is checked at start); --c2pa-key /
// --c2pa-cert: who signs the C2PA provenance of every MP4 (default: a development CA + signer in
// <video-state>/c2pa/); --job-store redis://... (and --job-lease, --job-max-attempts, --worker-name,
// --job-prefix): the shared Redis Streams queue of several API nodes and `frugal worker`s. Loads the
// pipelines (not on an API node without workers) and builds the VideoService the HTTP server
// attaches, or `frugal worker` runs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "c2pa_flags.h"
#include "core/expected.h"
#include "jobs/video_service.h"
#include "metrics/metrics.h"
#include "serve_trust.h"

namespace frugal::cli {

struct ServeVideoFlags {
  std::vector<std::string> model_values;  // NAME=DIR or DIR
  std::string tiers_file;                 // "" → the built-in draft/preview/final tiers
  std::string state_dir = "frugal-video-state";
  std::string object_store;               // "" → <state_dir>/files; s3://... → an S3-compatible bucket
  int64_t max_queue = 0;                  // > 0 overrides the config's max_queued
  int64_t max_queued_per_key = -1;        // >= 0 overrides the config's max_active_per_key (0: no limit)
  std::string webhook_url;                // "" → no webhooks
  std::string webhook_secret;             // "" → $FRUGAL_VIDEO_WEBHOOK_SECRET
  int threads = 0;                        // pipeline threads (0 = all cores)
  double usd_per_hour = 0;
  C2paFlags c2pa;                         // --c2pa-key / --c2pa-cert (c2pa_flags.h)
  std::string watermark_key;              // "" → <state_dir>/watermark.key, created on first start
  bool no_watermark = false;              // true: videos are not watermarked (benchmarks)
  trust::AuditSink* audit = nullptr;      // every job's end is recorded here (serve_audit.h); null: nowhere
  ServeTrustFlags trust;                  // post-generation checks and review (serve_trust.h)
  // --job-store: "" → SQLite in --video-state (one process); redis://HOST[:PORT][/DB] → Redis
  // Streams, shared by API nodes and `frugal worker`s (jobs/redis_job_store.h).
  std::string job_store;
  std::string job_prefix = "frugal:";     // --job-prefix: the Redis keys' prefix
  double job_lease_s = 30;                // --job-lease: a silent worker's job is taken over after this
  int job_max_attempts = 3;               // --job-max-attempts: interrupted runs before the dead-letter stream
  std::string worker_name;                // --worker-name: the Redis consumer name ("" → host:pid)
  bool no_workers = false;                // `serve --no-video-workers`: a stateless API node
  std::vector<std::string> served_tiers;  // `worker --tiers`: the tiers it runs (empty: all)
};

// Adds the --video-* and --job-* options of `frugal serve` and `frugal worker` to `cmd`, filling `flags`.
void add_serve_video_flags(CLI::App& cmd, ServeVideoFlags& flags);

// The job store --job-store names (SQLite in --video-state by default); kUnavailable when Redis
// cannot be reached, kInvalidArgument for a URL of another kind.
Expected<std::unique_ptr<jobs::JobStore>> open_job_store(const ServeVideoFlags& flags);

// nullptr when no --video-model is given.
Expected<std::unique_ptr<jobs::VideoService>> start_video_service(const ServeVideoFlags& flags, MetricsRegistry* registry);

}  // namespace frugal::cli
