// The video service's configuration (jobs layer): tiers — draft, preview, final — as named presets
// of generation settings, each with its own concurrency and priority, plus the service's limits.
// Loaded from a JSON file (`frugal serve --video-tiers FILE`); every field has a default, and the
// built-in tiers are used when no file is given:
//   {"default_tier": "draft", "max_queued": 64, "max_queued_per_key": 0, "retention_seconds": 86400, "max_frames": 81,
//    "max_side": 1280, "max_prompt_chars": 4000,
//    "tiers": [{"name": "draft", "model": "", "size": "480x272", "frames": 17, "steps": 8,
//               "sampler": "unipc", "cfg": 5.0, "shift": 5.0, "concurrency": 1, "priority": 3,
//               "attention": "dense", "attention_tile": [4, 4, 4], "attention_window": [3, 3, 3],
//               "attention_keep": 0.25, "attention_rest": "drop", "attention_warmup": 0, "step_cache": 0,
//               "step_cache_mode": "reuse", "step_cache_max_skips": 0, "step_cache_uncond": 1,
//               "step_cache_cond": 1, "step_cache_uncond_max_skips": -1, "step_cache_cfg": "own",
//               "step_cache_start": 0, "step_cache_end": 1, "step_cache_stagger": false,
//               "step_cache_error_tol": 0, "vae_mem_budget": "4GiB"}, ...]}
// (attention: dense | sliding-tile | block-sparse, ops/attention_tiled.h; step_cache: the step-caching
// threshold, 0 = off, step_cache_mode reuse | extrapolate | quadratic, step_cache_max_skips the most
// skipped passes in a row (0 = no cap), step_cache_uncond / _cond each branch's threshold / step_cache,
// step_cache_uncond_max_skips the unconditional branch's own cap (-1 = step_cache_max_skips),
// step_cache_cfg own | delta (a skipped unconditional pass adds the conditional residual of the step
// plus the cached difference), step_cache_start / _end the fractions of the steps that may skip,
// step_cache_stagger: the unconditional branch starts skipping one step later, step_cache_error_tol:
// error-controlled skipping (the summed predicted relative error of a run of skips, 0 = off),
// video/dit/step_cache.h; vae_mem_budget: the VAE decode's memory budget, a size
// such as "4GiB" or a byte count, "" / 0 = untiled, video/vae/vae_memory.h — a "vae_mem_budget" at the
// root is every tier's default.)
// "model" "" (or "auto") means the first served video model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/expected.h"
#include "ops/attention_tiled.h"
#include "video/dit/step_cache.h"

namespace frugal::jobs {

struct TierPreset {
  std::string name;
  std::string model;          // "" / "auto": the first served video model
  int64_t width = 480;        // pixels, multiple of 16
  int64_t height = 272;
  int64_t frames = 17;        // 4n+1 at 16 fps
  int steps = 8;
  std::string sampler = "unipc";
  double cfg = 5.0;
  double shift = 5.0;
  int concurrency = 1;        // jobs of this tier running at once, at most
  int priority = 0;           // higher is claimed first
  TiledAttentionConfig attention;  // the DiT's self-attention mode for this tier
  double attention_warmup = 0;  // fraction of the steps, from the first, attended densely
  double step_cache = 0;      // step-caching threshold, 0 = off
  video::StepCacheMode step_cache_mode = video::StepCacheMode::kReuse;
  int step_cache_max_skips = 0;     // most skipped passes in a row, 0 = no cap
  double step_cache_uncond = 1.0;   // the unconditional branch's threshold / step_cache
  double step_cache_cond = 1.0;     // the conditional branch's threshold / step_cache (0: never skipped)
  int step_cache_uncond_max_skips = -1;  // the unconditional branch's cap, -1 = step_cache_max_skips
  bool step_cache_cfg_delta = false;     // "step_cache_cfg": "delta"
  double step_cache_start = 0, step_cache_end = 1;  // fractions of the steps where passes may be skipped
  bool step_cache_stagger = false;  // the unconditional branch skips on the steps between the conditional one's
  double step_cache_error_tol = 0;  // error-controlled skipping: tolerance, 0 = off
  int64_t vae_mem_budget = 0; // the VAE decode's memory budget in bytes, 0 = untiled
};

struct VideoServiceConfig {
  std::vector<TierPreset> tiers;
  std::string default_tier = "draft";
  int64_t max_queued = 64;               // queued jobs before 429
  int64_t max_active_per_key = 0;        // > 0: a bearer token's queued + running jobs before 429
  int64_t retention_seconds = 24 * 3600;  // finished files expire this long after completion
  int64_t max_frames = 81;               // the longest clip served (81 = Wan2.1's 5 s)
  int64_t max_side = 1280;               // the largest width or height served
  int64_t max_prompt_chars = 4000;       // longer prompts are a 400
  int64_t fps = 16;                      // Wan2.1's sample_fps: seconds ↔ frames

  const TierPreset* find_tier(const std::string& name) const;
};

// The built-in draft / preview / final tiers (draft: seconds, preview: tens of seconds, final:
// minutes on the 1.3B model).
VideoServiceConfig default_video_service_config();
// Parses a config file's text; kInvalidArgument naming the field when a value is out of range.
Expected<VideoServiceConfig> parse_video_service_config(const std::string& json_text);
Expected<VideoServiceConfig> load_video_service_config(const std::string& path);

}  // namespace frugal::jobs
