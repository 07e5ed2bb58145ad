// Video DiT cost model (Wan2.1-style): latent tokens from resolution and frames, FLOPs per
// denoising step, time and dollars per video on an accelerator (cost layer).
// Central idea: each step runs the DiT over all latent tokens (linear layers ~2 x params x
// tokens, self-attention ~4 x layers x tokens^2 x dim), twice with classifier-free guidance,
// for `steps` steps; the text encoder and the VAE decoder run once per video.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/expected.h"
#include "cost/catalogue.h"

namespace frugal {

struct DitConfig {
  std::string name;             // "wan2.1-t2v-14b"
  std::string description;
  int64_t dim = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t ffn_dim = 0;
  int64_t text_len = 512;       // text tokens seen by cross-attention
  int64_t patch_t = 1, patch_h = 2, patch_w = 2;
  int64_t vae_stride_t = 4, vae_stride_h = 8, vae_stride_w = 8;
  int64_t z_dim = 16;
  double text_encoder_params = 5.7e9;      // umT5-XXL encoder
  // VAE decode work per output pixel (3D causal conv decoder); an estimate, see COST-MODEL.md.
  double vae_decode_flops_per_pixel = 1.0e7;

  // Per block: self-attention q,k,v,o (4 dim^2), cross-attention q,k,v,o (4 dim^2), FFN (2 dim ffn).
  double params() const;
};

const std::vector<DitConfig>& dit_configs();  // wan2.1-t2v-1.3b, wan2.1-t2v-14b
std::optional<DitConfig> find_dit_config(std::string_view name);
std::string dit_config_names();

struct VideoRequest {
  int64_t width = 832;
  int64_t height = 480;
  int64_t frames = 81;             // 16 fps: seconds x 16 + 1
  int64_t steps = 50;
  bool cfg = true;                 // classifier-free guidance: 2 DiT passes per step
  double step_cache_speedup = 1.0; // step caching (TeaCache ~2): DiT work / speedup
  double attention_density = 1.0; // sparse attention: fraction of self-attention FLOPs kept
  int gpus = 1;                    // sequence parallel (Ulysses/ring)
  double parallel_efficiency = 0.85;  // of each extra GPU (applies when gpus > 1)
  double dit_mfu = 0.6;
  double vae_mfu = 0.2;
  double text_encoder_mfu = 0.4;
};

// Width x height of "480p" (832x480), "720p", "1080p", "4k" or "WxH" (each >= 16); nullopt otherwise.
std::optional<std::pair<int64_t, int64_t>> parse_video_resolution(const std::string& text);
inline constexpr const char* kVideoResolutionNames = "480p, 720p, 1080p, 4k or WxH, each >= 16";

// Frames for a clip of `seconds` at Wan's 16 fps (81 frames for 5 s).
int64_t frames_for_seconds(double seconds);

struct VideoTokens {
  int64_t latent_frames = 0;  // 1 + (frames - 1) / 4
  int64_t latent_height = 0;  // ceil(H / 8)
  int64_t latent_width = 0;
  int64_t tokens = 0;         // latent_frames x ceil(latent_h / 2) x ceil(latent_w / 2)
};
VideoTokens video_tokens(const DitConfig& dit, const VideoRequest& request);

struct VideoPlan {
  VideoTokens tokens;
  double linear_flops_per_pass = 0;
  double attention_flops_per_pass = 0;
  double dit_flops_total = 0;      // all steps and passes, after the multipliers
  double text_encoder_flops = 0;
  double vae_decode_flops = 0;
  double dit_seconds = 0;
  double text_encoder_seconds = 0;
  double vae_seconds = 0;
  double seconds = 0;              // wall-clock per video
  double gpu_seconds = 0;          // seconds x gpus
  double memory_bytes = 0;         // per GPU: BF16 DiT weights + activations + text encoder
  bool fits = false;
  double usd_per_video = 0;        // gpu_seconds x price (0 when no price or it does not fit)
};

Expected<VideoPlan> plan_video(const DitConfig& dit, const VideoRequest& request, const Accelerator& hw,
                               double usd_per_hour_per_device);

}  // namespace frugal
