// `frugal bench video`: measures frugal's own video runs on this machine (seconds per denoising
// step, text encode, VAE decode) over a grid of configurations and saves them as the video
// calibration record that `frugal plan video --hardware this-machine` fits its rates to (tools layer).
//
// Method (written into the record): the model is loaded once; every configuration runs -r times,
// interleaved (repetition r of every configuration before repetition r + 1 of any, so that a busy
// spell of a shared machine hits every configuration alike), after one untimed warm-up run of the
// first configuration; the record keeps each configuration's medians. Configurations with more output
// pixel-frames than --decode-max-pixel-frames stop after the sampler (DiT figures only).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_report.h"
#include "cli_common.h"
#include "core/thread_pool.h"
#include "cost/video_calibration.h"
#include "cost/video_rates.h"
#include "video/pipeline/video_pipeline.h"
#include "video_model_key.h"
#include "video_output.h"

namespace frugal::cli {
namespace {

constexpr const char* kBenchPrompt = "a red circle moving right on a black background";

struct BenchVideoArgs {
  std::string model;
  std::vector<std::string> sizes = {"64x64", "128x128"};
  std::vector<int64_t> frames = {5, 9};
  std::vector<int> steps = {2};
  std::vector<std::string> cfg = {"on", "off"};
  int threads = 0;
  int repetitions = 3;
  double decode_max_pixel_frames = 0;  // 0: always decode
  bool json = false;
  bool no_save = false;
  std::string calibration_path;
};

struct Config {
  int64_t width = 0, height = 0, frames = 0;
  int steps = 0;
  bool cfg = true;
  bool decode = true;
  std::vector<video::VideoRunStats> runs;
  std::string name() const {
    return std::to_string(width) + "x" + std::to_string(height) + "x" + std::to_string(frames) + " " +
           std::to_string(steps) + " steps " + (cfg ? "cfg" : "no-cfg") + (decode ? "" : " (no VAE)");
  }
};

double median_of(const std::vector<video::VideoRunStats>& runs, double video::VideoRunStats::*field) {
  std::vector<double> v;
  for (const auto& r : runs) v.push_back(r.*field);
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : 0.5 * (v[mid - 1] + v[mid]);
}

// (max - min) / median of the step times: the run-to-run spread of a configuration.
double step_spread(const std::vector<video::VideoRunStats>& runs) {
  double lo = runs.front().seconds_per_step, hi = lo;
  for (const auto& r : runs) {
    lo = std::min(lo, r.seconds_per_step);
    hi = std::max(hi, r.seconds_per_step);
  }
  const double med = median_of(runs, &video::VideoRunStats::seconds_per_step);
  return med > 0 ? (hi - lo) / med : 0.0;
}

Expected<std::vector<Config>> build_grid(const BenchVideoArgs& a) {
  std::vector<Config> grid;
  for (const std::string& size : a.sizes) {
    int64_t w = 0, h = 0;
    if (Status s = parse_size(size, &w, &h); !s) return s;
    for (int64_t f : a.frames) {
      if (f < 1 || (f - 1) % 4 != 0) return invalid_argument("bench video: --frames values must be 4n+1, not " + std::to_string(f));
      for (int st : a.steps) {
        if (st < 1) return invalid_argument("bench video: --steps values must be >= 1");
        for (const std::string& c : a.cfg) {
          if (c != "on" && c != "off") return invalid_argument("bench video: --cfg values are on or off, not \"" + c + "\"");
          Config cfg;
          cfg.width = w;
          cfg.height = h;
          cfg.frames = f;
          cfg.steps = st;
          cfg.cfg = c == "on";
          const double pixel_frames = static_cast<double>(w) * static_cast<double>(h) * static_cast<double>(f);
          cfg.decode = a.decode_max_pixel_frames <= 0 || pixel_frames <= a.decode_max_pixel_frames;
          grid.push_back(cfg);
        }
      }
    }
  }
  if (grid.empty()) return invalid_argument("bench video: the grid is empty");
  return grid;
}

video::VideoRequest request_for(const Config& c) {
  video::VideoRequest r;
  r.prompt = kBenchPrompt;
  r.width = c.width;
  r.height = c.height;
  r.frames = c.frames;
  r.steps = c.steps;
  r.cfg = c.cfg ? 5.0f : 1.0f;
  r.decode = c.decode;
  return r;
}

int run_bench_video(const BenchVideoArgs& a) {
  if (a.repetitions < 1) return report_error(invalid_argument("bench video: -r must be >= 1"));
  if (a.threads < 0) return report_error(invalid_argument("bench video: -t must be >= 0"));
  auto key = video_model_key(a.model);
  if (!key) return report_error(key.error());
  auto grid = build_grid(a);
  if (!grid) return report_error(grid.error());
  auto files = video::resolve_video_model_files(a.model, {});
  if (!files) return report_error(files.error());
  video::VideoPipelineOptions options;
  options.num_threads = a.threads > 0 ? a.threads : default_num_threads();
  auto pipeline = video::VideoPipeline::load(*files, options);
  if (!pipeline) return report_error(pipeline.error());
  for (const Config& c : *grid) {
    if (Status s = (*pipeline)->validate(request_for(c)); !s) return report_error(s);
  }
  const video::VideoCallbacks none;
  if (auto warm = (*pipeline)->generate(request_for(grid->front()), none); !warm) return report_error(warm.error());
  for (int rep = 0; rep < a.repetitions; ++rep) {
    for (Config& c : *grid) {
      auto stats = (*pipeline)->generate(request_for(c), none);
      if (!stats) return report_error(stats.error());
      c.runs.push_back(*stats);
    }
  }
  VideoCalibrationRecord record;
  record.machine_id = hostname();
  record.cpu_model = cpu_model_name();
  record.created_utc = utc_now_iso8601();
  record.method = "frugal bench video: model loaded once, 1 untimed warm-up, " + std::to_string(a.repetitions) +
                  " interleaved repetitions per configuration, medians; prompt \"" + kBenchPrompt + "\", unipc sampler";
  const int threads = (*pipeline)->num_threads();
  if (!a.json) {
    std::printf("# %s on %s (%s), %d thread%s, median of %d\n", key->name.c_str(), record.machine_id.c_str(),
                record.cpu_model.c_str(), threads, threads == 1 ? "" : "s", a.repetitions);
    std::printf("%-34s %8s %12s %10s %10s %10s %7s\n", "configuration", "tokens", "s/step", "text s", "VAE s", "total s",
                "spread");
  }
  for (const Config& c : *grid) {
    VideoCalibrationPoint p;
    p.model = key->name;
    p.signature = key->signature;
    p.dim = key->dit.dim;
    p.n_layer = key->dit.n_layer;
    p.n_head = key->dit.n_head;
    p.ffn_dim = key->dit.ffn_dim;
    p.text_len = key->dit.text_len;
    p.threads = threads;
    p.width = c.width;
    p.height = c.height;
    p.frames = c.frames;
    p.steps = c.steps;
    p.cfg = c.cfg;
    p.decoded = c.decode;
    p.repetitions = a.repetitions;
    p.text_encode_seconds = median_of(c.runs, &video::VideoRunStats::text_encode_seconds);
    p.seconds_per_step = median_of(c.runs, &video::VideoRunStats::seconds_per_step);
    p.vae_decode_seconds = c.decode ? median_of(c.runs, &video::VideoRunStats::vae_decode_seconds) : 0.0;
    p.total_seconds = median_of(c.runs, &video::VideoRunStats::total_seconds);
    p.measured_utc = record.created_utc;
    const int64_t tokens = video_pass_work(key->dit, c.width, c.height, c.frames).tokens;
    if (a.json) {
      nlohmann::json j = {{"model", p.model}, {"threads", threads}, {"width", c.width}, {"height", c.height},
                          {"frames", c.frames}, {"steps", c.steps}, {"cfg", c.cfg}, {"decoded", c.decode},
                          {"tokens", tokens}, {"repetitions", a.repetitions},
                          {"seconds_per_step_median", p.seconds_per_step}, {"text_encode_seconds_median", p.text_encode_seconds},
                          {"vae_decode_seconds_median", p.vae_decode_seconds}, {"total_seconds_median", p.total_seconds},
                          {"step_spread", step_spread(c.runs)}};
      nlohmann::json steps = nlohmann::json::array();
      for (const auto& r : c.runs) steps.push_back(r.seconds_per_step);
      j["seconds_per_step"] = steps;
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("%-34s %8lld %12.4f %10.4f %10.3f %10.3f %6.0f%%\n", c.name().c_str(), static_cast<long long>(tokens),
                  p.seconds_per_step, p.text_encode_seconds, p.vae_decode_seconds, p.total_seconds,
                  100.0 * step_spread(c.runs));
    }
    record.points.push_back(std::move(p));
  }
  if (a.no_save) return 0;
  const std::string path = resolve_video_calibration_path(a.calibration_path);
  VideoCalibrationRecord merged = record;
  if (auto previous = load_video_calibration(path); previous) merged = merge_video_calibration(*previous, record);
  if (Status s = save_video_calibration(merged, path); !s) return report_error(s);
  std::fprintf(stderr, "frugal bench video: saved %zu point(s) (%zu in the record) to %s\n", record.points.size(),
               merged.points.size(), path.c_str());
  return 0;
}

}  // namespace

CLI::App* register_bench_video(CLI::App& bench) {
  auto args = std::make_shared<BenchVideoArgs>();
  CLI::App* cmd = bench.add_subcommand("video", "Measure frugal's video runs (s/step, text encode, VAE) for `plan video`");
  cmd->add_option("-m,--model", args->model, "Wan model folder (with config.json)")->required();
  cmd->add_option("--sizes", args->sizes, "WxH sizes (comma list, multiples of 16)")->delimiter(',')->capture_default_str();
  cmd->add_option("--frames", args->frames, "Frame counts, 4n+1 (comma list)")->delimiter(',')->capture_default_str();
  cmd->add_option("--steps", args->steps, "Denoising steps (comma list)")->delimiter(',')->capture_default_str();
  cmd->add_option("--cfg", args->cfg, "Classifier-free guidance: on (scale 5, 2 passes), off (1 pass); comma list")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_option("-r,--repetitions", args->repetitions, "Timed repetitions per configuration (interleaved)")
      ->capture_default_str();
  cmd->add_option("--decode-max-pixel-frames", args->decode_max_pixel_frames,
                  "Run the VAE only up to this many output pixel-frames (W x H x frames); 0 = always");
  cmd->add_flag("--json", args->json, "One JSON object per configuration");
  cmd->add_flag("--no-save", args->no_save, "Do not save the video calibration record");
  cmd->add_option("--video-calibration", args->calibration_path,
                  "Record to write (default $FRUGAL_VIDEO_CALIBRATION or ~/.cache/frugal/video-calibration.json)");
  cmd->callback([args] {
    const int code = run_bench_video(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
  return cmd;
}

}  // namespace frugal::cli
