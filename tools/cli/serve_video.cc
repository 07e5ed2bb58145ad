#include "serve_video.h"

#include <cstdio>
#include <filesystem>

#include "jobs/sqlite_job_store.h"
#include "storage/local_store.h"
#include "video/pipeline/video_pipeline.h"

namespace frugal::cli {
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

}  // namespace

Expected<std::unique_ptr<jobs::VideoService>> start_video_service(const ServeVideoFlags& flags, MetricsRegistry* registry) {
  if (flags.model_values.empty()) return std::unique_ptr<jobs::VideoService>();
  auto specs = parse_video_model_specs(flags.model_values);
  if (!specs) return specs.error();
  jobs::VideoServiceOptions options;
  if (!flags.tiers_file.empty()) {
    auto config = jobs::load_video_service_config(flags.tiers_file);
    if (!config) return config.error();
    options.config = std::move(*config);
  }
  if (flags.max_queue > 0) options.config.max_queued = flags.max_queue;
  options.usd_per_hour = flags.usd_per_hour;
  for (const jobs::TierPreset& tier : options.config.tiers) {
    bool served = tier.model.empty();
    for (const VideoModelSpec& spec : *specs) served |= spec.name == tier.model;
    if (!served) return invalid_argument("video tier \"" + tier.name + "\" names model \"" + tier.model + "\", not served");
  }
  std::error_code ec;
  std::filesystem::create_directories(flags.state_dir, ec);
  if (ec) return unavailable("cannot create --video-state " + flags.state_dir + ": " + ec.message());
  auto store = jobs::SqliteJobStore::open(flags.state_dir + "/jobs.sqlite");
  if (!store) return store.error();
  auto objects = storage::LocalDirectoryStore::open(flags.state_dir + "/files");
  if (!objects) return objects.error();
  auto models = load_video_models(*specs, flags.threads);
  if (!models) return models.error();
  auto service = std::make_unique<jobs::VideoService>(std::move(options), std::move(*models), std::move(*store),
                                                      std::move(*objects), registry);
  if (Status s = service->start(); !s) return s;
  std::printf("frugal: video jobs in %s (tiers:", flags.state_dir.c_str());
  for (const jobs::TierPreset& tier : service->config().tiers) std::printf(" %s", tier.name.c_str());
  std::printf("; queue holds %lld)\n", static_cast<long long>(service->config().max_queued));
  return service;
}

}  // namespace frugal::cli
