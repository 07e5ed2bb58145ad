// VideoPipeline (see video_pipeline.h): loading the parts, checking a request, the three stages.
#include "video/pipeline/video_pipeline.h"

#include <cmath>

#include "video/dit/wan_dit.h"
#include "video/text_encoder/tokenizer.h"
#include "video/text_encoder/umt5_encoder.h"
#include "video/vae/wan_vae.h"

namespace frugal::video {

const char* video_stage_name(VideoStage stage) {
  switch (stage) {
    case VideoStage::kTextEncode: return "text encode";
    case VideoStage::kDenoise: return "denoise";
    case VideoStage::kVaeDecode: return "VAE decode";
  }
  return "?";
}

VideoPipeline::VideoPipeline(std::unique_ptr<LoadedVideoModel> model) : model_(std::move(model)) {}
VideoPipeline::~VideoPipeline() = default;

Expected<std::unique_ptr<VideoPipeline>> VideoPipeline::load(const VideoModelFiles& files,
                                                             const VideoPipelineOptions& options) {
  auto model = load_video_model(files, options);
  if (!model) return model.error();
  return std::unique_ptr<VideoPipeline>(new VideoPipeline(std::move(*model)));
}

const VideoModelInfo& VideoPipeline::info() const { return model_->info; }

VideoPipeline::ResidentParts VideoPipeline::resident_parts() const {
  return {model_->text_encoder != nullptr, !model_->dits.empty(), model_->vae != nullptr};
}
int VideoPipeline::num_threads() const { return model_->pool->num_threads(); }

Status VideoPipeline::validate(const VideoRequest& r) const {
  const VideoModelInfo& info = model_->info;
  const int64_t spatial = info.vae_stride_s * info.patch_h;  // 16 for Wan: VAE ×8, then 2×2 patches
  if (r.width <= 0 || r.height <= 0 || r.width % spatial != 0 || r.height % spatial != 0) {
    return invalid_argument("size " + std::to_string(r.width) + "x" + std::to_string(r.height) +
                            ": width and height must be positive multiples of " + std::to_string(spatial));
  }
  if (r.width > 4096 || r.height > 4096) return invalid_argument("size: width and height must be at most 4096");
  if (r.frames < 1 || (r.frames - 1) % info.vae_stride_t != 0) {
    return invalid_argument("frames " + std::to_string(r.frames) + ": must be 4n+1 (1, 5, 9, ..., 81)");
  }
  if (r.frames > 1001) return invalid_argument("frames: at most 1001");
  if (r.prompt_ids.empty() && r.prompt.find_first_not_of(" \t\r\n") == std::string::npos) {
    return invalid_argument("prompt: empty (give a text prompt, or token ids in reference mode)");
  }
  if (r.prompt_ids.empty() && !info.has_tokenizer) {
    return invalid_argument("prompt: this model has no tokenizer (spiece.model); give --tokenizer or token ids");
  }
  if (r.steps < 1 || r.steps > 1000) return invalid_argument("steps: must be in [1, 1000]");
  if (!(r.shift > 0.0f) || !std::isfinite(r.shift)) return invalid_argument("shift: must be a positive number");
  if (!(r.cfg >= 0.0f) || !std::isfinite(r.cfg)) return invalid_argument("cfg: must be a finite number >= 0");
  if (!(r.expert_boundary >= 0.0f && r.expert_boundary <= 1.0f)) return invalid_argument("boundary: must be in [0, 1]");
  if (Status s = validate_tiled_attention(r.attention); !s) return invalid_argument("attention: " + s.message());
  if (!(r.attention_warmup >= 0.0 && r.attention_warmup <= 1.0)) return invalid_argument("attention_warmup: must be in [0, 1]");
  if (!(r.step_cache >= 0.0 && r.step_cache <= 10.0)) return invalid_argument("step_cache: must be in [0, 10] (0 = off)");
  if (r.step_cache_max_skips < 0 || r.step_cache_max_skips > 1000) {
    return invalid_argument("step_cache_max_skips: must be in [0, 1000] (0 = no cap)");
  }
  if (!(r.step_cache_uncond >= 0.0 && r.step_cache_uncond <= 100.0)) {
    return invalid_argument("step_cache_uncond: must be in [0, 100]");
  }
  if (!(r.step_cache_cond >= 0.0 && r.step_cache_cond <= 100.0)) return invalid_argument("step_cache_cond: must be in [0, 100]");
  if (r.step_cache_uncond_max_skips < -1 || r.step_cache_uncond_max_skips > 1000) {
    return invalid_argument("step_cache_uncond_max_skips: must be in [-1, 1000] (-1 = step_cache_max_skips)");
  }
  if (!(r.step_cache_start >= 0.0 && r.step_cache_start <= r.step_cache_end && r.step_cache_end <= 1.0)) {
    return invalid_argument("step_cache_start / step_cache_end: need 0 <= start <= end <= 1");
  }
  if (!(r.step_cache_error_tol >= 0.0 && r.step_cache_error_tol <= 10.0)) {
    return invalid_argument("step_cache_error_tol: must be in [0, 10] (0 = off)");
  }
  if (r.cfg_high_noise) {
    if (!(*r.cfg_high_noise >= 0.0f) || !std::isfinite(*r.cfg_high_noise)) {
      return invalid_argument("cfg_high_noise: must be a finite number >= 0");
    }
    if (info.n_experts != 2) {
      return invalid_argument("cfg_high_noise: this model has one DiT; a separate high-noise guidance scale needs a "
                              "two-expert model (high_noise_model/ + low_noise_model/)");
    }
  }
  if (r.vae_mem_budget < 0) return invalid_argument("vae_mem_budget: must be a positive byte count (0 = no budget)");
  if (r.vae_mem_budget > 0) {
    VaeDecodeOptions opts;
    opts.mem_budget_bytes = r.vae_mem_budget;
    auto plan = model_->vae->plan_decode({info.z_dim, (r.frames - 1) / info.vae_stride_t + 1, r.height / info.vae_stride_s,
                                          r.width / info.vae_stride_s}, opts);
    if (!plan) return plan.error();
  }
  if (!r.noise.empty()) {
    const int64_t want = info.z_dim * ((r.frames - 1) / info.vae_stride_t + 1) * (r.height / info.vae_stride_s) *
                         (r.width / info.vae_stride_s);
    if (static_cast<int64_t>(r.noise.size()) != want) {
      return invalid_argument("noise: holds " + std::to_string(r.noise.size()) + " values, the latent needs " +
                              std::to_string(want));
    }
  }
  return Status::ok();
}

Expected<std::vector<int32_t>> VideoPipeline::tokenize(const std::string& text) const {
  if (!model_->tokenizer) return invalid_argument("this model has no tokenizer");
  // Cleaned, </s> appended, truncated to text_len with </s> kept last (the rows the DiT sees).
  auto tokens = model_->tokenizer->encode(text, model_->info.text_len);
  if (!tokens) return tokens.error();
  tokens->ids.resize(static_cast<size_t>(tokens->num_tokens));
  return std::move(tokens->ids);
}

Expected<std::vector<float>> VideoPipeline::encode_ids(const std::vector<int32_t>& ids, int64_t* n_rows) {
  const int64_t text_len = model_->info.text_len;
  if (ids.empty()) return invalid_argument("no token ids");
  if (static_cast<int64_t>(ids.size()) > text_len) {
    return invalid_argument(std::to_string(ids.size()) + " token ids, at most " + std::to_string(text_len));
  }
  // Padded to text_len with id 0 and a mask of ones over the real tokens, as the tokenizer pads them.
  std::vector<int32_t> padded(static_cast<size_t>(text_len), 0), mask(static_cast<size_t>(text_len), 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    padded[i] = ids[i];
    mask[i] = 1;
  }
  if (Status s = model_->ensure_text_encoder(); !s) return s;  // kPerStage: freed after the last run's text stage
  auto context = model_->text_encoder->encode(padded, mask, *model_->pool);
  if (!context) return context.error();
  *n_rows = static_cast<int64_t>(ids.size());
  return context;
}

Expected<std::vector<float>> VideoPipeline::encode_text(const std::string& text, int64_t* n_rows) {
  auto ids = tokenize(text);
  if (!ids) return ids.error();
  return encode_ids(*ids, n_rows);
}

}  // namespace frugal::video
