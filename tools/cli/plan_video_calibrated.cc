// `frugal plan video --hardware this-machine -m MODEL_DIR`: frugal's own seconds per step and per
// video on this machine, from the rates fitted to the `frugal bench video` record (tools layer;
// the model is in cost/video_rates.h).
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "cost/video_calibration.h"
#include "cost/video_rates.h"
#include "plan_common.h"
#include "plan_format.h"
#include "video_model_key.h"

namespace frugal::cli {
namespace {

using nlohmann::json;

double or_zero(double x) { return std::isfinite(x) ? x : 0.0; }

}  // namespace

int run_video_calibrated(VideoArgs a) {
  std::error_code ec;
  if (!std::filesystem::is_directory(a.model, ec)) {
    return report_error(invalid_argument("--hardware this-machine predicts frugal's own runs: -m must be the Wan model folder "
                                         "that `frugal bench video -m DIR` measured, not \"" + a.model + "\""));
  }
  if (a.request.gpus != 1) return report_error(invalid_argument("--hardware this-machine runs on one machine: --gpus 1"));
  if (Status s = resolve_video_request(a); !s) return report_error(s);
  auto key = video_model_key(a.model);
  if (!key) return report_error(key.error());
  const std::string path = resolve_video_calibration_path(a.video_calibration);
  auto record = load_video_calibration(path);
  if (!record) return report_error(record.error());
  auto points = video_points_for(*record, path, key->name, key->signature, a.threads);
  if (!points) return report_error(points.error());
  auto rates = fit_video_rates(key->dit, *points);
  if (!rates) return report_error(rates.error());
  const VideoRequest& r = a.request;
  const VideoPrediction p = predict_video(*rates, key->dit, r.width, r.height, r.frames, r.steps, r.cfg);
  const int threads = points->front().threads;
  const double usd_per_video = a.common.usd_per_hour ? *a.common.usd_per_hour * p.total_seconds / 3600.0 : 0.0;
  if (a.common.json) {
    json out = {{"model", key->name}, {"hardware", kThisMachineName}, {"calibrated", true}, {"threads", threads},
                {"width", r.width}, {"height", r.height}, {"frames", r.frames}, {"steps", r.steps}, {"cfg", r.cfg},
                {"tokens", p.work.tokens}, {"dit_passes_per_step", p.passes},
                {"linear_flops_per_pass", p.work.linear_flops}, {"attention_flops_per_pass", p.work.attention_flops},
                {"seconds_per_step", p.seconds_per_step}, {"text_encoder_seconds", p.text_encode_seconds},
                {"vae_seconds", rates->has_vae ? json(p.vae_decode_seconds) : json(nullptr)},
                {"seconds", p.total_seconds},
                {"usd_per_video", a.common.usd_per_hour ? json(usd_per_video) : json(nullptr)},
                {"rates", {{"linear_flops_per_s", or_zero(rates->linear_flops_per_s)},
                           {"attention_flops_per_s", or_zero(rates->attention_flops_per_s)},
                           {"seconds_per_pass", rates->seconds_per_pass},
                           {"seconds_per_prompt", rates->seconds_per_prompt},
                           {"seconds_per_pixel_frame", rates->seconds_per_pixel_frame},
                           {"vae_fixed_seconds", rates->vae_fixed_seconds}}},
                {"calibration", {{"path", path}, {"machine_id", record->machine_id}, {"method", record->method},
                                 {"step_points", rates->step_points}, {"vae_points", rates->vae_points},
                                 {"max_step_fit_error", rates->max_step_fit_error},
                                 {"max_vae_fit_error", rates->max_vae_fit_error}}}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("video        %s (calibrated on this machine, %d thread%s), %lldx%lld, %lld frames, %lld steps%s\n",
              key->name.c_str(), threads, threads == 1 ? "" : "s", static_cast<long long>(r.width), static_cast<long long>(r.height),
              static_cast<long long>(r.frames), static_cast<long long>(r.steps), r.cfg ? " x2 (CFG)" : "");
  std::printf("tokens       %s per DiT pass (%.3g linear + %.3g attention FLOPs)\n",
              fmt_count(static_cast<double>(p.work.tokens)).c_str(), p.work.linear_flops, p.work.attention_flops);
  std::printf("step         %.4f s per step (%d DiT pass%s)\n", p.seconds_per_step, p.passes, p.passes == 2 ? "es" : "");
  std::printf("time         %s per video (text encoder %s, DiT %s, VAE %s)\n", fmt_duration(p.total_seconds).c_str(),
              fmt_duration(p.text_encode_seconds).c_str(),
              fmt_duration(p.seconds_per_step * static_cast<double>(r.steps)).c_str(),
              rates->has_vae ? fmt_duration(p.vae_decode_seconds).c_str() : "— (no decoded calibration point)");
  std::printf("rates        linear %.2f GFLOP/s, attention %.2f GFLOP/s, %.2f ms per pass; VAE %.2f us per pixel-frame "
              "+ %.3f s; text %.4f s per prompt\n",
              or_zero(rates->linear_flops_per_s) / 1e9, or_zero(rates->attention_flops_per_s) / 1e9,
              rates->seconds_per_pass * 1e3, rates->seconds_per_pixel_frame * 1e6, rates->vae_fixed_seconds,
              rates->seconds_per_prompt);
  std::printf("calibration  %s: %d step points (fit within %.1f %%), %d VAE points (within %.1f %%)\n", path.c_str(),
              rates->step_points, 100.0 * rates->max_step_fit_error, rates->vae_points, 100.0 * rates->max_vae_fit_error);
  if (a.common.usd_per_hour) {
    std::printf("cost         %s per video at %s per machine-hour\n", fmt_usd(usd_per_video).c_str(),
                fmt_usd(*a.common.usd_per_hour).c_str());
  }
  return 0;
}

}  // namespace frugal::cli
