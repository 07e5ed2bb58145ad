// `frugal plan video`: time, memory and cost per video of a Wan-style DiT (tools layer).
#include <cstdio>
#include <memory>
#include <utility>

#include "cli_common.h"
#include "cost/plan_json.h"
#include "plan_common.h"
#include "plan_format.h"

namespace frugal::cli {
namespace {

using nlohmann::json;

int run_video(VideoArgs a) {
  if (a.hardware == kThisMachineName) return run_video_calibrated(std::move(a));
  auto dit = find_dit_config(a.model);
  if (!dit) return report_error(not_found("unknown video model '" + a.model + "' (" + dit_config_names() + ")"));
  if (Status s = resolve_video_request(a); !s) return report_error(s);
  auto hw = resolve_hardware(a.common, a.hardware);
  if (!hw) return report_error(hw.error());
  auto plan = plan_video(*dit, a.request, hw->accelerator, hw->usd_per_hour);
  if (!plan) return report_error(plan.error());
  if (a.common.json) {
    json out = video_plan_to_json(*plan);
    out["model"] = dit->name;
    out["hardware"] = hw->accelerator.name;
    out["gpus"] = a.request.gpus;
    out["width"] = a.request.width;
    out["height"] = a.request.height;
    out["frames"] = a.request.frames;
    out["steps"] = a.request.steps;
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("video        %s, %lldx%lld, %lld frames, %lld steps%s\n", dit->description.c_str(),
              static_cast<long long>(a.request.width), static_cast<long long>(a.request.height),
              static_cast<long long>(a.request.frames), static_cast<long long>(a.request.steps), a.request.cfg ? " x2 (CFG)" : "");
  std::printf("tokens       %s (latent %lld x %lld x %lld)\n", fmt_count(static_cast<double>(plan->tokens.tokens)).c_str(),
              static_cast<long long>(plan->tokens.latent_frames), static_cast<long long>(plan->tokens.latent_height),
              static_cast<long long>(plan->tokens.latent_width));
  std::printf("time         %s per video on %d x %s (DiT %s, text encoder %s, VAE %s); %s of GPU time\n",
              fmt_duration(plan->seconds).c_str(), a.request.gpus, hw->accelerator.name.c_str(),
              fmt_duration(plan->dit_seconds).c_str(), fmt_duration(plan->text_encoder_seconds).c_str(),
              fmt_duration(plan->vae_seconds).c_str(), fmt_duration(plan->gpu_seconds).c_str());
  std::printf("memory       %s per GPU of %s: %s\n", fmt_gb(plan->memory_bytes).c_str(),
              fmt_gb(hw->accelerator.memory_bytes).c_str(), plan->fits ? "fits" : "DOES NOT FIT");
  if (!plan->fits) {
    std::printf("cost         — (does not fit in memory: not priced)\n");
  } else {
    std::printf("cost         %s per video at %s per GPU-hour\n", fmt_usd(plan->usd_per_video).c_str(),
                fmt_usd(hw->usd_per_hour).c_str());
  }
  return 0;
}

}  // namespace

void register_plan_video(CLI::App& plan) {
  auto video = std::make_shared<VideoArgs>();
  CLI::App* video_cmd = plan.add_subcommand("video", "Time and cost per video of a Wan-style DiT");
  add_video_flags(*video_cmd, *video);
  on_run(video_cmd, [video] { return run_video(*video); });
}

}  // namespace frugal::cli
