// VideoPipeline::generate: the three stages of one request (see video_pipeline.h).
//   The sampler loop owns time (steps, sigmas, CFG); the DiT owns one pass; the VAE streams frames.
#include <chrono>
#include <cmath>

#include "core/memory_usage.h"
#include "video/dit/wan_dit.h"
#include "video/pipeline/video_pipeline.h"
#include "video/samplers/cfg.h"
#include "video/samplers/noise.h"
#include "video/samplers/sampler_loop.h"
#include "video/vae/wan_vae.h"

namespace frugal::video {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

Status cancelled_status() { return Status(StatusCode::kCancelled, "the video request was cancelled"); }

}  // namespace

Expected<VideoRunStats> VideoPipeline::generate(const VideoRequest& request, const VideoCallbacks& callbacks) {
  if (Status s = validate(request); !s) return s;
  const VideoModelInfo& info = model_->info;
  VideoRunStats stats;
  stats.width = request.width;
  stats.height = request.height;
  stats.frames = request.frames;
  stats.fps = info.fps;
  stats.steps = request.steps;
  stats.threads = num_threads();
  stats.latent_frames = (request.frames - 1) / info.vae_stride_t + 1;
  stats.latent_height = request.height / info.vae_stride_s;
  stats.latent_width = request.width / info.vae_stride_s;
  const auto t_start = Clock::now();

  // Stage 1: the text contexts (the negative one only when CFG needs a second pass).
  auto progress = [&](VideoStage stage, int step, int n, Clock::time_point t0) {
    if (callbacks.on_progress) callbacks.on_progress(VideoProgress{stage, step, n, seconds_since(t0)});
  };
  const bool use_cfg = needs_unconditional_pass(request, static_cast<size_t>(info.n_experts));
  const int n_texts = use_cfg ? 2 : 1;
  // Parts not resident (StageResidency::kPerStage) are loaded as their stage starts; the load time is
  // kept out of the stage's seconds.
  auto load_part = [&](Status (LoadedVideoModel::*ensure)()) -> Status {
    const auto t0 = Clock::now();
    Status s = ((*model_).*ensure)();
    stats.stage_load_seconds += seconds_since(t0);
    return s;
  };
  if (Status s = load_part(&LoadedVideoModel::ensure_text_encoder); !s) return s;
  const auto t_text = Clock::now();
  progress(VideoStage::kTextEncode, 0, n_texts, t_text);
  int64_t pos_rows = 0, neg_rows = 0;
  auto ctx_pos = request.prompt_ids.empty() ? encode_text(request.prompt, &pos_rows) : encode_ids(request.prompt_ids, &pos_rows);
  if (!ctx_pos) return ctx_pos.error();
  progress(VideoStage::kTextEncode, 1, n_texts, t_text);
  std::vector<float> ctx_neg;
  if (use_cfg) {
    auto neg = !request.negative_ids.empty()
                   ? encode_ids(request.negative_ids, &neg_rows)
                   : encode_text(request.negative_prompt.empty() ? kWanDefaultNegativePrompt : request.negative_prompt,
                                 &neg_rows);
    if (!neg) return neg.error();
    ctx_neg = std::move(*neg);
    progress(VideoStage::kTextEncode, 2, n_texts, t_text);
  }
  stats.text_encode_seconds = seconds_since(t_text);
  model_->release_text_encoder();  // kPerStage: its last use in this run
  if (callbacks.cancelled && callbacks.cancelled()) return cancelled_status();

  // Stage 2: the initial noise, then the sampler loop.
  const int64_t n_latent = info.z_dim * stats.latent_frames * stats.latent_height * stats.latent_width;
  std::vector<float> latent = request.noise;
  if (latent.empty()) {
    latent.resize(static_cast<size_t>(n_latent));
    fill_gaussian(request.seed, latent.data(), n_latent, *model_->pool);
  }
  if (Status s = load_part(&LoadedVideoModel::ensure_dits); !s) return s;
  if (Status s = denoise(request, *ctx_pos, pos_rows, ctx_neg, neg_rows, latent, callbacks, stats); !s) return s;
  model_->release_dits();  // kPerStage: the decode does not need it

  // Stage 3: the streaming VAE decode (skipped by benchmarks of the DiT alone).
  if (request.decode) {
    if (Status s = decode(request, latent, callbacks, stats); !s) return s;
  }
  stats.total_seconds = seconds_since(t_start);
  stats.compute_seconds = stats.total_seconds * stats.threads;
  stats.peak_rss_bytes = std::max(stats.peak_rss_bytes, peak_rss_bytes());
  return stats;
}

Status VideoPipeline::denoise(const VideoRequest& request, const std::vector<float>& ctx_pos, int64_t pos_rows,
                              const std::vector<float>& ctx_neg, int64_t neg_rows, std::vector<float>& latent,
                              const VideoCallbacks& callbacks, VideoRunStats& stats) {
  const auto t0 = Clock::now();
  ThreadPool& pool = *model_->pool;
  const bool use_cfg = needs_unconditional_pass(request, model_->dits.size());
  // Each expert embeds each context once: the text embedding does not depend on the timestep.
  const size_t n_experts = model_->dits.size();
  std::vector<std::vector<float>> pos_embedded(n_experts), neg_embedded(n_experts);
  for (size_t e = 0; e < n_experts; ++e) {
    WanDit& dit = *model_->dits[e];
    pos_embedded[e].resize(static_cast<size_t>(dit.embedded_context_size()));
    if (Status s = dit.embed_context(ctx_pos.data(), pos_rows, pos_embedded[e].data(), pool); !s) return s;
    if (use_cfg) {
      neg_embedded[e].resize(static_cast<size_t>(dit.embedded_context_size()));
      if (Status s = dit.embed_context(ctx_neg.data(), neg_rows, neg_embedded[e].data(), pool); !s) return s;
    }
  }
  const int64_t n = static_cast<int64_t>(latent.size());
  const int64_t T = stats.latent_frames, H = stats.latent_height, W = stats.latent_width;
  std::vector<float> uncond(use_cfg ? static_cast<size_t>(n) : 0);
  // Attention mode per request; the tile pairs of this request are the difference of the counters.
  std::vector<TiledAttentionStats> attention_before(n_experts);
  for (size_t e = 0; e < n_experts; ++e) attention_before[e] = model_->dits[e]->attention_stats();
  // The first attention_warmup of the steps attend densely (they lay out the global structure).
  const int dense_steps = static_cast<int>(std::ceil(request.attention_warmup * request.steps - 1e-9));
  TiledAttentionConfig dense_attention = request.attention;
  dense_attention.mode = AttentionMode::kDense;
  // Step caching: one stream per expert and CFG branch (each reuses its own residual).
  StepCacheConfig cache_config;
  cache_config.threshold = request.step_cache;
  cache_config.mode = request.step_cache_mode;
  cache_config.max_skips = request.step_cache_max_skips;
  cache_config.uncond_scale = request.step_cache_uncond;
  cache_config.cond_scale = request.step_cache_cond;
  cache_config.uncond_max_skips = request.step_cache_uncond_max_skips;
  cache_config.cfg_delta = request.step_cache_cfg_delta;
  cache_config.start = request.step_cache_start;
  cache_config.end = request.step_cache_end;
  cache_config.stagger = request.step_cache_stagger;
  cache_config.error_tol = request.step_cache_error_tol;
  StepCache cache(cache_config);
  int step = 0;
  auto model_fn = [&](const float* x, float timestep, float* v_out) -> Status {
    if (callbacks.cancelled && callbacks.cancelled()) return cancelled_status();
    if (callbacks.on_latent) callbacks.on_latent(step, x, n);
    // Two experts (Wan2.2): the high-noise DiT while t >= boundary · 1000.
    const size_t e = n_experts == 2 && timestep < request.expert_boundary * 1000.0f ? 1 : 0;
    WanDit& dit = *model_->dits[e];
    dit.set_attention(step < dense_steps ? dense_attention : request.attention);
    // The last step always runs the blocks, and so does every step outside the cache's window.
    const bool last = step >= request.steps - 1 || !cache_config.allows_skip(step, request.steps);
    StepCacheStream* cond_cache = cache.stream(static_cast<int>(2 * e));
    if (Status s = dit.forward_embedded(x, T, H, W, pos_embedded[e].data(), timestep, v_out, pool, cond_cache, last); !s) {
      return s;
    }
    ++stats.dit_passes;
    // Guidance 1 is the conditional pass alone (one pass); Wan2.2 gives each expert its own scale.
    const float guidance = guidance_scale(request, e, n_experts);
    if (guidance != 1.0f) {
      StepCacheStream* uncond_cache = cache.stream(static_cast<int>(2 * e + 1));
      if (Status s = dit.forward_embedded(x, T, H, W, neg_embedded[e].data(), timestep, uncond.data(), pool,
                                          uncond_cache, last);
          !s) {
        return s;
      }
      ++stats.dit_passes;
      cfg_combine(v_out, uncond.data(), guidance, v_out, n);
    }
    return Status::ok();
  };
  auto on_step = [&](int step_idx, int num_steps, float) {
    step = step_idx + 1;
    if (callbacks.on_progress) callbacks.on_progress(VideoProgress{VideoStage::kDenoise, step, num_steps, seconds_since(t0)});
  };
  if (callbacks.on_progress) callbacks.on_progress(VideoProgress{VideoStage::kDenoise, 0, request.steps, 0.0});
  if (Status s = run_flow_sampler(request.sampler, request.steps, request.shift, latent.data(), n, model_fn, on_step); !s) {
    return s;
  }
  if (callbacks.on_latent) callbacks.on_latent(request.steps, latent.data(), n);
  stats.dit_passes_skipped = cache.passes_skipped();
  stats.attention = attention_mode_name(request.attention.mode);
  stats.attention_rest = attention_rest_name(request.attention.rest);
  TiledAttentionStats attended;
  for (size_t e = 0; e < n_experts; ++e) {
    const TiledAttentionStats& now = model_->dits[e]->attention_stats();
    attended.tile_pairs_computed += now.tile_pairs_computed - attention_before[e].tile_pairs_computed;
    attended.tile_pairs_total += now.tile_pairs_total - attention_before[e].tile_pairs_total;
    attended.pooled_tile_pairs += now.pooled_tile_pairs - attention_before[e].pooled_tile_pairs;
  }
  stats.attention_fraction = attended.fraction();
  if (attended.tile_pairs_total > 0) {
    stats.attention_pooled_fraction =
        static_cast<double>(attended.pooled_tile_pairs) / static_cast<double>(attended.tile_pairs_total);
  }
  stats.denoise_seconds = seconds_since(t0);
  stats.seconds_per_step = stats.denoise_seconds / request.steps;
  return Status::ok();
}

Status VideoPipeline::decode(const VideoRequest& request, const std::vector<float>& latent,
                             const VideoCallbacks& callbacks, VideoRunStats& stats) {
  const auto t0 = Clock::now();
  // The decode's own peak: the run's peak so far is kept, then the high-water mark restarts here.
  stats.peak_rss_bytes = peak_rss_bytes();
  const bool peak_reset = reset_peak_rss();
  const int n_latent_frames = static_cast<int>(stats.latent_frames);
  int latent_frames_done = 0;
  if (callbacks.on_progress) callbacks.on_progress(VideoProgress{VideoStage::kVaeDecode, 0, n_latent_frames, 0.0});
  auto sink = [&](const float* frames, int64_t n_frames) -> Status {
    if (callbacks.on_frames) {
      if (Status s = callbacks.on_frames(frames, n_frames); !s) return s;
    }
    ++latent_frames_done;
    if (callbacks.on_progress) {
      callbacks.on_progress(VideoProgress{VideoStage::kVaeDecode, latent_frames_done, n_latent_frames, seconds_since(t0)});
    }
    if (callbacks.cancelled && callbacks.cancelled()) return cancelled_status();
    return Status::ok();
  };
  const std::array<int64_t, 4> shape = {model_->info.z_dim, stats.latent_frames, stats.latent_height, stats.latent_width};
  VaeDecodeOptions options;
  options.mem_budget_bytes = request.vae_mem_budget;
  // Tiled decodes report tiles (the frames come after the last one) and are cancelled between tiles.
  options.on_tile = [&](int64_t done, int64_t tiles) -> Status {
    if (callbacks.on_progress) {
      callbacks.on_progress(VideoProgress{VideoStage::kVaeDecode, static_cast<int>(done), static_cast<int>(tiles),
                                          seconds_since(t0)});
    }
    if (callbacks.cancelled && callbacks.cancelled()) return cancelled_status();
    return Status::ok();
  };
  if (Status s = model_->vae->decode(latent.data(), shape, sink, *model_->pool, options); !s) {
    return s;
  }
  stats.vae_decode_seconds = seconds_since(t0);
  stats.vae_decode_peak_rss_bytes = peak_reset ? peak_rss_bytes() : 0;
  const VaeTilePlan& plan = model_->vae->last_plan();
  stats.vae_mem_budget_bytes = request.vae_mem_budget;
  stats.vae_predicted_peak_bytes = plan.predicted_bytes;
  stats.vae_tiles = plan.tiles();
  stats.vae_tiling = plan.to_string();
  return Status::ok();
}

}  // namespace frugal::video
