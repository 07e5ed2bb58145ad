#include "cost/video_model.h"

#include <cmath>

#include "cost/llm_roofline.h"

namespace frugal {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

DitConfig wan(std::string name, std::string description, int64_t dim, int64_t n_layer, int64_t n_head, int64_t ffn) {
  DitConfig c;
  c.name = std::move(name);
  c.description = std::move(description);
  c.dim = dim;
  c.n_layer = n_layer;
  c.n_head = n_head;
  c.ffn_dim = ffn;
  return c;
}

}  // namespace

double DitConfig::params() const {
  const double d = static_cast<double>(dim);
  return static_cast<double>(n_layer) * (8.0 * d * d + 2.0 * d * static_cast<double>(ffn_dim));
}

const std::vector<DitConfig>& dit_configs() {
  // Wan2.1 config.json / wan/configs: dim, num_layers, num_heads, ffn_dim.
  static const std::vector<DitConfig> kConfigs = {
      wan("wan2.1-t2v-1.3b", "Wan2.1 T2V 1.3B", 1536, 30, 12, 8960),
      wan("wan2.1-t2v-14b", "Wan2.1 T2V 14B", 5120, 40, 40, 13824),
  };
  return kConfigs;
}

std::optional<DitConfig> find_dit_config(std::string_view name) {
  for (const DitConfig& c : dit_configs()) {
    if (c.name == name) return c;
  }
  return std::nullopt;
}

std::string dit_config_names() {
  std::string out;
  for (const DitConfig& c : dit_configs()) out += (out.empty() ? "" : ", ") + c.name;
  return out;
}

int64_t frames_for_seconds(double seconds) { return static_cast<int64_t>(std::llround(seconds * 16.0)) + 1; }

VideoTokens video_tokens(const DitConfig& dit, const VideoRequest& r) {
  VideoTokens t;
  t.latent_frames = 1 + (r.frames - 1) / dit.vae_stride_t;
  t.latent_height = ceil_div(r.height, dit.vae_stride_h);
  t.latent_width = ceil_div(r.width, dit.vae_stride_w);
  t.tokens = ceil_div(t.latent_frames, dit.patch_t) * ceil_div(t.latent_height, dit.patch_h) *
             ceil_div(t.latent_width, dit.patch_w);
  return t;
}

std::optional<std::pair<int64_t, int64_t>> parse_video_resolution(const std::string& r) {
  if (r == "480p") return std::pair<int64_t, int64_t>{832, 480};
  if (r == "720p") return std::pair<int64_t, int64_t>{1280, 720};
  if (r == "1080p") return std::pair<int64_t, int64_t>{1920, 1080};
  if (r == "4k") return std::pair<int64_t, int64_t>{3840, 2160};
  const size_t x = r.find('x');
  if (x != std::string::npos) {
    try {
      const auto size = std::pair<int64_t, int64_t>{std::stoll(r.substr(0, x)), std::stoll(r.substr(x + 1))};
      if (size.first >= 16 && size.second >= 16) return size;
    } catch (...) {
    }
  }
  return std::nullopt;
}

Expected<VideoPlan> plan_video(const DitConfig& dit, const VideoRequest& r, const Accelerator& hw,
                               double usd_per_hour_per_device) {
  if (r.width <= 0 || r.height <= 0 || r.frames <= 0 || r.steps <= 0) {
    return invalid_argument("video width, height, frames and steps must be > 0");
  }
  if (r.gpus < 1) return invalid_argument("--gpus must be >= 1");
  if (r.step_cache_speedup < 1.0) return invalid_argument("--step-cache-speedup must be >= 1");
  if (r.attention_density <= 0 || r.attention_density > 1) return invalid_argument("--attention-density must be in (0, 1]");
  if (r.parallel_efficiency <= 0 || r.parallel_efficiency > 1) return invalid_argument("--parallel-efficiency must be in (0, 1]");
  if (r.gpus > 1 && hw.interconnect_bytes_per_s <= 0) {
    return invalid_argument("hardware '" + hw.name + "' has no interconnect for sequence parallelism");
  }
  VideoPlan p;
  p.tokens = video_tokens(dit, r);
  const double n = static_cast<double>(p.tokens.tokens);
  const double layers = static_cast<double>(dit.n_layer);
  const double d = static_cast<double>(dit.dim);
  p.linear_flops_per_pass = 2.0 * dit.params() * n;
  // Self-attention QK^T and AV (4 n^2 d per layer) plus cross-attention to the text tokens.
  p.attention_flops_per_pass = 4.0 * layers * n * n * d * r.attention_density +
                               4.0 * layers * n * static_cast<double>(dit.text_len) * d;
  const double passes = r.cfg ? 2.0 : 1.0;
  p.dit_flops_total = (p.linear_flops_per_pass + p.attention_flops_per_pass) * passes * static_cast<double>(r.steps) /
                      r.step_cache_speedup;
  p.text_encoder_flops = 2.0 * dit.text_encoder_params * static_cast<double>(dit.text_len) * passes;
  p.vae_decode_flops = dit.vae_decode_flops_per_pixel * static_cast<double>(r.width) * r.height * r.frames;

  const double peak = hw.bf16_dense_flops_per_s;
  // Sequence parallel: each extra GPU contributes parallel_efficiency of a GPU.
  const double effective_gpus = 1.0 + (r.gpus - 1) * r.parallel_efficiency;
  p.dit_seconds = p.dit_flops_total / (peak * r.dit_mfu * effective_gpus);
  p.text_encoder_seconds = p.text_encoder_flops / (peak * r.text_encoder_mfu);
  p.vae_seconds = p.vae_decode_flops / (peak * r.vae_mfu);
  p.seconds = p.dit_seconds + p.text_encoder_seconds + p.vae_seconds;
  p.gpu_seconds = p.seconds * r.gpus;
  // BF16 DiT weights (replicated), BF16 text encoder, ~12 live [tokens/gpus, dim] activations.
  p.memory_bytes = 2.0 * dit.params() + 2.0 * dit.text_encoder_params + 12.0 * (n / r.gpus) * d * 2.0 +
                   runtime_reserve_bytes(hw);
  p.fits = p.memory_bytes <= hw.memory_bytes;
  // A configuration that does not fit cannot run: it gets no price.
  p.usd_per_video = p.fits ? usd_per_hour_per_device * p.gpu_seconds / 3600.0 : 0.0;
  return p;
}

}  // namespace frugal
