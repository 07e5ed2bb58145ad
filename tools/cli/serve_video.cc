#include "serve_video.h"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <filesystem>

#include "jobs/redis_job_store.h"
#include "jobs/sqlite_job_store.h"
#include "storage/local_store.h"
#include "storage/s3_store.h"
#include "trust/watermark_check.h"
#include "trust/watermark_key.h"
#include "webhooks/webhook_sender.h"
#include "video/pipeline/video_pipeline.h"

namespace frugal::cli {

const char* frugal_version();  // generated at build time (cmake/version.cmake)
namespace {

struct VideoModelSpec {
  std::string name;
  std::string dir;
};

Expected<std::vector<VideoModelSpec>> parse_video_model_specs(const std::vector<std::string>& values) {
  std::vector<VideoModelSpec> specs;
  for (const std::string& value : values) {
    VideoModelSpec spec;
    const size_t eq = value.find('=');
    if (eq != std::string::npos && eq > 0) {
      spec.name = value.substr(0, eq);
      spec.dir = value.substr(eq + 1);
    } else {
      spec.dir = value;
      spec.name = std::filesystem::path(value).lexically_normal().filename().string();
      if (spec.name.empty()) spec.name = std::filesystem::path(value).lexically_normal().parent_path().filename().string();
    }
    if (spec.name.empty() || spec.name == "auto") {
      return invalid_argument("--video-model " + value + ": give it a name other than \"auto\" (NAME=DIR)");
    }
    for (const VideoModelSpec& other : specs) {
      if (other.name == spec.name) return invalid_argument("--video-model: two models are named \"" + spec.name + "\"");
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

Expected<std::vector<jobs::ServedVideoModel>> load_video_models(const std::vector<VideoModelSpec>& specs, int threads) {
  std::vector<jobs::ServedVideoModel> models;
  for (const VideoModelSpec& spec : specs) {
    auto files = video::resolve_video_model_files(spec.dir, {});
    if (!files) return Status(files.error().code(), "--video-model " + spec.name + ": " + files.error().message());
    video::VideoPipelineOptions options;
    options.num_threads = threads;
    auto pipeline = video::VideoPipeline::load(*files, options);
    if (!pipeline) return Status(pipeline.error().code(), "--video-model " + spec.name + ": " + pipeline.error().message());
    std::printf("frugal: video model \"%s\" from %s (%d threads)\n", spec.name.c_str(), spec.dir.c_str(),
                (*pipeline)->num_threads());
    models.push_back(jobs::ServedVideoModel{spec.name, std::move(*pipeline)});
  }
  return models;
}

// The sender of --video-webhook-url (nullopt without one).
Expected<std::optional<webhooks::WebhookSender>> make_webhook_sender(const ServeVideoFlags& flags) {
  std::string secret = flags.webhook_secret;
  if (secret.empty()) {
    const char* from_env = std::getenv("FRUGAL_VIDEO_WEBHOOK_SECRET");
    secret = from_env != nullptr ? from_env : "";
  }
  if (flags.webhook_url.empty()) {
    if (!flags.webhook_secret.empty()) return invalid_argument("--video-webhook-secret needs --video-webhook-url");
    return std::optional<webhooks::WebhookSender>();
  }
  if (secret.empty()) {
    return invalid_argument("--video-webhook-url needs --video-webhook-secret whsec_... (or $FRUGAL_VIDEO_WEBHOOK_SECRET)");
  }
  auto sender = webhooks::WebhookSender::create(webhooks::WebhookEndpoint{flags.webhook_url, secret});
  if (!sender) return Status(sender.error().code(), "--video-webhook: " + sender.error().message());
  return std::optional<webhooks::WebhookSender>(std::move(*sender));
}

// --object-store: "" → the local folder <state_dir>/files; s3://... → the bucket, checked now (a
// wrong bucket, endpoint or credentials fail the start, not the first job).
Expected<std::unique_ptr<storage::ObjectStore>> open_object_store(const ServeVideoFlags& flags) {
  if (flags.object_store.empty()) {
    auto local = storage::LocalDirectoryStore::open(flags.state_dir + "/files");
    if (!local) return local.error();
    return std::unique_ptr<storage::ObjectStore>(std::move(*local));
  }
  auto config = storage::parse_s3_url(flags.object_store);
  if (!config) return invalid_argument("--object-store: " + config.error().message());
  auto s3 = storage::S3ObjectStore::open(std::move(*config), flags.state_dir + "/staging");
  if (!s3) return s3.error();
  if (Status s = (*s3)->check_bucket(); !s) {
    return Status(s.code() == StatusCode::kUnavailable ? s.code() : StatusCode::kInvalidArgument,
                  "--object-store " + (*s3)->config().bucket + ": " + s.message());
  }
  std::printf("frugal: video files in s3://%s/%s at %s://%s\n", (*s3)->config().bucket.c_str(),
              (*s3)->config().prefix.c_str(), (*s3)->config().scheme.c_str(), (*s3)->config().endpoint_host.c_str());
  return std::unique_ptr<storage::ObjectStore>(std::move(*s3));
}

}  // namespace

void add_serve_video_flags(CLI::App& cmd, ServeVideoFlags& flags) {
  cmd.add_option("--video-model", flags.model_values,
                 "Serve a Wan text-to-video model folder behind the OpenAI Videos API: DIR or NAME=DIR (repeatable)");
  cmd.add_option("--video-tiers", flags.tiers_file,
                 "Video tiers config JSON (draft/preview/final presets, limits; default: built-in tiers)");
  cmd.add_option("--video-state", flags.state_dir, "Folder of the video job database and finished files")
      ->capture_default_str();
  cmd.add_option("--object-store", flags.object_store,
                 "Keep finished videos in an S3-compatible bucket: s3://BUCKET/PREFIX?endpoint=http://HOST:PORT&region=R "
                 "(credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or credentials_file=PATH; default: VIDEO_STATE/files)");
  cmd.add_option("--video-max-queue", flags.max_queue, "Queued video jobs before 429 (overrides the tiers file)");
  cmd.add_option("--video-max-queued-per-key", flags.max_queued_per_key,
                 "Queued + running video jobs one API key (bearer token; none = one anonymous key) may have before "
                 "429; 0 = no limit (overrides the tiers file)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--video-webhook-url", flags.webhook_url,
                 "POST video.completed / video.failed events here (Standard Webhooks signatures, retried with backoff)");
  cmd.add_option("--video-webhook-secret", flags.webhook_secret,
                 "The webhook signing secret, whsec_<base64 key> (default: $FRUGAL_VIDEO_WEBHOOK_SECRET)");
  add_c2pa_flags(cmd, flags.c2pa);
  cmd.add_option("--watermark-key", flags.watermark_key,
                 "Invisible watermark key file, 64 hex digits (default: VIDEO_STATE/watermark.key, created on first start)");
  cmd.add_flag("--no-watermark", flags.no_watermark, "Do not watermark generated videos (benchmarks only)");
  add_serve_trust_flags(cmd, flags.trust);
  cmd.add_option("--job-store", flags.job_store,
                 "Where video jobs are queued: redis://HOST[:PORT][/DB] (Redis Streams, shared by API nodes and "
                 "`frugal worker`s); default: SQLite in --video-state");
  cmd.add_option("--job-prefix", flags.job_prefix, "Prefix of the Redis keys (--job-store redis://)")->capture_default_str();
  cmd.add_option("--job-lease", flags.job_lease_s,
                 "Seconds a worker's silence is tolerated before another worker takes its video job over (Redis)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd.add_option("--job-max-attempts", flags.job_max_attempts,
                 "Interrupted runs of a video job before it fails as attempts_exhausted (dead-letter stream; Redis)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd.add_option("--worker-name", flags.worker_name,
                 "This process's consumer name in the Redis groups; a restart with the same name requeues its "
                 "interrupted jobs at once (default: HOST:PID)");
}

Expected<std::unique_ptr<jobs::JobStore>> open_job_store(const ServeVideoFlags& flags) {
  if (flags.job_store.empty()) {
    auto store = jobs::SqliteJobStore::open(flags.state_dir + "/jobs.sqlite");
    if (!store) return store.error();
    return std::unique_ptr<jobs::JobStore>(std::move(*store));
  }
  if (flags.job_store.rfind("redis://", 0) != 0) {
    return invalid_argument("--job-store " + flags.job_store + ": expected redis://HOST[:PORT][/DB] (or none: SQLite)");
  }
  jobs::RedisJobStoreOptions options;
  options.url = flags.job_store;
  options.prefix = flags.job_prefix;
  options.consumer = flags.worker_name;
  options.lease_ms = static_cast<int64_t>(flags.job_lease_s * 1000);
  options.max_attempts = flags.job_max_attempts;
  auto store = jobs::RedisJobStore::open(options);
  if (!store) return Status(store.error().code(), "--job-store: " + store.error().message());
  std::printf("frugal: video jobs queued in %s (consumer %s, lease %.1f s, %d attempts)\n", flags.job_store.c_str(),
              (*store)->consumer().c_str(), flags.job_lease_s, flags.job_max_attempts);
  return std::unique_ptr<jobs::JobStore>(std::move(*store));
}

Expected<std::unique_ptr<jobs::VideoService>> start_video_service(const ServeVideoFlags& flags, MetricsRegistry* registry) {
  if (flags.model_values.empty()) {
    if (!flags.webhook_url.empty()) return invalid_argument("--video-webhook-url needs --video-model");
    if (!flags.object_store.empty()) return invalid_argument("--object-store keeps video files: it needs --video-model");
    if (!flags.c2pa.key.empty() || !flags.c2pa.cert.empty()) {
      return invalid_argument("--c2pa-key/--c2pa-cert sign video MP4s: they need --video-model");
    }
    if (!flags.watermark_key.empty()) return invalid_argument("--watermark-key marks video frames: it needs --video-model");
    if (!flags.job_store.empty() || flags.no_workers) return invalid_argument("--job-store and --no-video-workers need --video-model");
    if (has_post_checks(flags.trust)) return invalid_argument("--pdq-hash-list and --classifier-command need --video-model");
    return std::unique_ptr<jobs::VideoService>();
  }
  if (flags.no_workers && flags.job_store.empty()) {
    return invalid_argument("--no-video-workers: nobody would run the jobs; give a shared --job-store redis://... "
                            "that `frugal worker`s read");
  }
  auto specs = parse_video_model_specs(flags.model_values);
  if (!specs) return specs.error();
  jobs::VideoServiceOptions options;
  if (!flags.tiers_file.empty()) {
    auto config = jobs::load_video_service_config(flags.tiers_file);
    if (!config) return config.error();
    options.config = std::move(*config);
  }
  if (flags.max_queue > 0) options.config.max_queued = flags.max_queue;
  if (flags.max_queued_per_key >= 0) options.config.max_active_per_key = flags.max_queued_per_key;
  options.usd_per_hour = flags.usd_per_hour;
  options.audit = flags.audit;
  auto webhook = make_webhook_sender(flags);
  if (!webhook) return webhook.error();
  options.webhook = std::move(*webhook);
  auto c2pa = load_c2pa_credentials(flags.c2pa, flags.state_dir);  // before the slow model load: fail fast
  if (!c2pa) return c2pa.error();
  options.c2pa = std::move(*c2pa);
  options.software_version = frugal_version();
  if (has_post_checks(flags.trust) && flags.trust.reviewer_key_file.empty()) {
    return invalid_argument("--pdq-hash-list / --classifier-command hold videos for review: give --reviewer-key-file too");
  }
  auto checks = make_post_checks(flags.trust);
  if (!checks) return checks.error();
  options.post_checks = std::move(*checks);
  options.check_every_frames = flags.trust.check_every_frames;
  options.run_workers = !flags.no_workers;
  for (const std::string& name : flags.served_tiers) {
    bool known = false;
    for (const jobs::TierPreset& tier : options.config.tiers) known |= tier.name == name;
    if (!known) return invalid_argument("--tiers: no video tier is named \"" + name + "\"");
  }
  options.served_tiers = flags.served_tiers;
  const size_t n_checks = options.post_checks.size();
  for (const jobs::TierPreset& tier : options.config.tiers) {
    bool served = tier.model.empty();
    for (const VideoModelSpec& spec : *specs) served |= spec.name == tier.model;
    if (!served) return invalid_argument("video tier \"" + tier.name + "\" names model \"" + tier.model + "\", not served");
  }
  std::error_code ec;
  std::filesystem::create_directories(flags.state_dir, ec);
  if (ec) return unavailable("cannot create --video-state " + flags.state_dir + ": " + ec.message());
  if (!flags.no_watermark) {
    const std::string key_path = flags.watermark_key.empty() ? flags.state_dir + "/watermark.key" : flags.watermark_key;
    bool created = false;
    auto key = flags.watermark_key.empty() ? trust::load_or_create_watermark_key(key_path, &created)
                                           : trust::load_watermark_key(key_path);
    if (!key) return key.error();
    options.watermark_key = *key;
    options.read_back_watermark = flags.trust.check_watermark;
    options.watermark_check_min_side = flags.trust.watermark_check_min_side;
    std::printf("frugal: videos carry an invisible watermark; key %s%s (`frugal watermark detect FILE.mp4 --key %s`)\n",
                key_path.c_str(), created ? " (created now)" : "", key_path.c_str());
  }
  auto store = open_job_store(flags);
  if (!store) return store.error();
  auto objects = open_object_store(flags);
  if (!objects) return objects.error();
  std::vector<jobs::ServedVideoModel> named;  // an API node without workers: the names, no pipelines
  for (const VideoModelSpec& spec : *specs) named.push_back(jobs::ServedVideoModel{spec.name, nullptr});
  auto models = flags.no_workers ? Expected<std::vector<jobs::ServedVideoModel>>(std::move(named))
                                 : load_video_models(*specs, flags.threads);
  if (!models) return models.error();
  auto service = std::make_unique<jobs::VideoService>(std::move(options), std::move(*models), std::move(*store),
                                                      std::move(*objects), registry);
  if (Status s = service->start(); !s) return s;
  std::printf("frugal: video jobs in %s%s (tiers:", flags.state_dir.c_str(),
              flags.no_workers ? ", run by `frugal worker`s" : "");
  for (const jobs::TierPreset& tier : service->config().tiers) std::printf(" %s", tier.name.c_str());
  std::printf("; queue holds %lld", static_cast<long long>(service->config().max_queued));
  if (service->config().max_active_per_key > 0) {
    std::printf(", %lld per API key", static_cast<long long>(service->config().max_active_per_key));
  }
  std::printf(")\n");
  if (!flags.webhook_url.empty()) std::printf("frugal: video webhooks to %s\n", flags.webhook_url.c_str());
  if (n_checks > 0) {
    std::printf("frugal: %zu post-generation check(s) on every %lld-th frame; flagged videos wait at /v1/review/videos\n",
                n_checks, static_cast<long long>(flags.trust.check_every_frames));
  }
  return service;
}

}  // namespace frugal::cli
