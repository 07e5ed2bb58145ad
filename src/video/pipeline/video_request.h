// One text-to-video request and what a run reports back (video/pipeline layer).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "ops/attention_tiled.h"
#include "video/dit/step_cache.h"
#include "video/samplers/sampler_kind.h"

namespace frugal::video {

// Wan's default negative prompt (wan/configs/shared_config.py `sample_neg_prompt`), used when a
// request gives none, as the official generate() does.
extern const char* const kWanDefaultNegativePrompt;

struct VideoRequest {
  std::string prompt;
  std::string negative_prompt;           // empty: kWanDefaultNegativePrompt
  std::vector<int32_t> prompt_ids;       // reference mode: token ids instead of text (eos included)
  std::vector<int32_t> negative_ids;
  int64_t width = 832;                   // pixels, multiple of 16
  int64_t height = 480;                  // pixels, multiple of 16
  int64_t frames = 81;                   // 4n+1
  int steps = 50;
  SamplerKind sampler = SamplerKind::kUniPC;
  float shift = 5.0f;                    // sigma shift
  float cfg = 5.0f;                      // classifier-free guidance scale; 1 = one pass, no negative
  uint64_t seed = 0;
  std::vector<float> noise;              // optional initial latent [z_dim, T, height/8, width/8]
  float expert_boundary = 0.875f;        // two-expert models: t >= boundary·1000 runs the high-noise DiT
  bool decode = true;                    // false: stop after the sampler, no frames (DiT benchmarks)
  TiledAttentionConfig attention;        // DiT self-attention: dense (default), sliding-tile, block-sparse
  double attention_warmup = 0;           // fraction of the steps, from the first, that attend densely, [0, 1]
  double step_cache = 0;                 // step-caching threshold (dit/step_cache.h); 0 = off, else (0, 10]
  StepCacheMode step_cache_mode = StepCacheMode::kReuse;  // a skipped pass: reuse or extrapolate the residual
  int step_cache_max_skips = 0;          // most consecutive skipped passes per CFG branch, [0, 1000]; 0 = no cap
  double step_cache_uncond = 1.0;        // the unconditional branch's threshold / step_cache, [0, 100]
  double step_cache_cond = 1.0;          // the conditional branch's threshold / step_cache, [0, 100] (0: never skipped)
  int step_cache_uncond_max_skips = -1;  // the unconditional branch's cap, [-1, 1000]; -1: step_cache_max_skips
  bool step_cache_cfg_delta = false;     // a skipped uncond pass = this step's cond residual + cached difference
  double step_cache_start = 0.0;         // skipping only in sampler steps [start, end) x steps, 0 <= start <= end <= 1
  double step_cache_end = 1.0;
  bool step_cache_stagger = false;       // the uncond branch skips on the steps between the cond branch's skips
  double step_cache_error_tol = 0;       // error control: summed predicted relative error of a skip run, [0, 10]; 0 = off
  // Two-expert models: the guidance scale while the high-noise expert runs (Wan2.2 A14B t2v ships
  // sample_guide_scale (3.0, 4.0): cfg 3 for the low-noise expert, 4 for the high-noise one); unset:
  // cfg for both. A one-DiT model refuses it.
  std::optional<float> cfg_high_noise;
  // The VAE decode's memory budget in bytes (VAE weights, activations, caches and, when tiled, the
  // blended frames; video/vae/vae_memory.h): the frame is decoded in overlapping tiles when the
  // untiled decode would not fit. 0 = untiled. validate() refuses a budget even the smallest tile
  // cannot meet, before any work.
  int64_t vae_mem_budget = 0;
};

// The guidance scale of the step that runs DiT `expert` of a model with `n_experts` (0 = high noise).
float guidance_scale(const VideoRequest& request, size_t expert, size_t n_experts);
// Whether any step can need the unconditional pass (some expert's guidance scale is not 1).
bool needs_unconditional_pass(const VideoRequest& request, size_t n_experts);

// "832x480" → width 832, height 480 (positive integers, 'x' between, nothing else); false otherwise.
// Callers check the model's own limits (multiples of 16, maximum side) and word their errors.
bool parse_video_size(const std::string& text, int64_t* width, int64_t* height);
// "4,4,4" → {4, 4, 4} (three positive integers, commas between, nothing else); false otherwise.
bool parse_int_triple(const std::string& text, std::array<int64_t, 3>* out);

enum class VideoStage { kTextEncode, kDenoise, kVaeDecode };
const char* video_stage_name(VideoStage stage);

struct VideoProgress {
  VideoStage stage = VideoStage::kTextEncode;
  int step = 0;              // steps done in this stage (denoise: sampler steps; decode: latent frames)
  int n_steps = 0;
  double stage_seconds = 0;  // wall time in this stage so far
};

struct VideoCallbacks {
  std::function<void(const VideoProgress&)> on_progress;
  // Decoded frames as they come out of the streaming VAE: [3, n_frames, H, W] f32, unclamped (the
  // reference's `_raw`); clamp to [-1, 1] for display. A non-OK Status stops the run with it.
  std::function<Status(const float* frames, int64_t n_frames)> on_frames;
  // The latent before step 0 and after every step: [z_dim, T, h, w].
  std::function<void(int step, const float* latent, int64_t n)> on_latent;
  // Polled between steps and frames; true cancels the run (Status kCancelled).
  std::function<bool()> cancelled;
};

struct VideoRunStats {
  int64_t width = 0, height = 0, frames = 0, fps = 16;
  int64_t latent_frames = 0, latent_height = 0, latent_width = 0;
  int steps = 0;
  int dit_passes = 0;                   // DiT forwards (2 per step with CFG), skipped ones included
  int dit_passes_skipped = 0;           // forwards whose blocks step caching skipped
  std::string attention = "dense";      // self-attention mode
  double attention_fraction = 1.0;      // tile pairs attended / what dense attention attends
  std::string attention_rest = "drop";  // sparse modes: the unattended key tiles dropped or pooled
  double attention_pooled_fraction = 0;  // tile pairs attended as one mean row (rest = pooled) / dense
  double text_encode_seconds = 0;
  double denoise_seconds = 0;
  double seconds_per_step = 0;
  double vae_decode_seconds = 0;
  double stage_load_seconds = 0;        // parts loaded during the run (StageResidency::kPerStage: the DiT)
  double total_seconds = 0;
  double compute_seconds = 0;           // wall seconds × threads: what the cost meter prices
  int64_t peak_rss_bytes = 0;           // whole run
  int64_t vae_decode_peak_rss_bytes = 0;
  int64_t vae_mem_budget_bytes = 0;     // the request's budget, 0 = none
  int64_t vae_predicted_peak_bytes = 0; // the memory model's prediction for the decode as planned
  int64_t vae_tiles = 1;                // spatial tiles of the decode (1: untiled)
  std::string vae_tiling = "untiled";   // VaeTilePlan::to_string()
  int threads = 0;
};

}  // namespace frugal::video
