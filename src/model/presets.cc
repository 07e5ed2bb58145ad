#include "model/presets.h"

#include <cmath>

namespace frugal {

const std::vector<ModelShape>& model_presets() {
  // Shapes from the models' published configs (config.json on their model cards).
  static const std::vector<ModelShape> kPresets = {
      {.preset = "tiny", .description = "tiny test model", .arch = "llama", .n_layer = 2, .n_embd = 256, .n_head = 4,
       .n_head_kv = 2, .n_ff = 512, .n_ctx = 512, .n_vocab = 512, .tied_output = false},
      {.preset = "llama-1b", .description = "Llama-3.2-1B", .arch = "llama", .n_layer = 16, .n_embd = 2048,
       .n_head = 32, .n_head_kv = 8, .n_ff = 8192, .n_ctx = 131072, .n_vocab = 128256, .rope_theta = 500000.0f,
       .tied_output = true, .rope_scaling_factor = 32.0f},
      {.preset = "llama-8b", .description = "Llama-3.1-8B", .arch = "llama", .n_layer = 32, .n_embd = 4096,
       .n_head = 32, .n_head_kv = 8, .n_ff = 14336, .n_ctx = 131072, .n_vocab = 128256, .rope_theta = 500000.0f,
       .tied_output = false, .rope_scaling_factor = 8.0f},
      {.preset = "qwen2.5-0.5b", .description = "Qwen2.5-0.5B", .arch = "qwen2", .n_layer = 24, .n_embd = 896,
       .n_head = 14, .n_head_kv = 2, .n_ff = 4864, .n_ctx = 32768, .n_vocab = 151936, .rope_theta = 1000000.0f,
       .rms_eps = 1e-6f, .tied_output = true},
      // Mixture-of-experts shapes. The tiny-* ones back the llama.cpp logit tests (tests/data/llama);
      // mixtral-mini is Mixtral's layout (8 experts, top-2): 1.5 B total with a 32 k vocabulary.
      {.preset = "tiny-mixtral", .description = "tiny Mixtral-style MoE (llama, 4 experts, top-2)", .arch = "llama",
       .n_layer = 2, .n_embd = 64, .n_head = 4, .n_head_kv = 2, .n_ff = 96, .n_ctx = 256, .n_vocab = 512,
       .n_expert = 4, .n_expert_used = 2},
      {.preset = "tiny-qwen2moe", .description = "tiny Qwen2-MoE (4 experts, top-2, shared expert)", .arch = "qwen2moe",
       .n_layer = 2, .n_embd = 64, .n_head = 4, .n_head_kv = 2, .n_ff = 128, .n_ctx = 256, .n_vocab = 512,
       .rms_eps = 1e-6f, .n_expert = 4, .n_expert_used = 2, .n_ff_exp = 64, .n_ff_shexp = 128},
      {.preset = "tiny-qwen3moe", .description = "tiny Qwen3-MoE (8 experts, top-2, per-head QK norm)",
       .arch = "qwen3moe", .n_layer = 2, .n_embd = 64, .n_head = 4, .n_head_kv = 2, .n_ff = 128, .n_ctx = 256,
       .n_vocab = 512, .rms_eps = 1e-6f, .n_expert = 8, .n_expert_used = 2, .n_ff_exp = 64},
      {.preset = "tiny-olmoe", .description = "tiny OLMoE (8 experts, top-2, full QK norm)", .arch = "olmoe",
       .n_layer = 2, .n_embd = 64, .n_head = 4, .n_head_kv = 4, .n_ff = 64, .n_ctx = 256, .n_vocab = 512,
       .n_expert = 8, .n_expert_used = 2},
      {.preset = "mixtral-mini", .description = "Mixtral-shaped, 8 experts top-2, 1.5B total with a 32k vocabulary", .arch = "llama",
       .n_layer = 16, .n_embd = 1024, .n_head = 16, .n_head_kv = 4, .n_ff = 3584, .n_ctx = 4096,
       .n_vocab = 32000, .rope_theta = 1000000.0f, .n_expert = 8, .n_expert_used = 2},
      {.preset = "olmoe-1b-7b", .description = "OLMoE-1B-7B", .arch = "olmoe", .n_layer = 16, .n_embd = 2048,
       .n_head = 16, .n_head_kv = 16, .n_ff = 1024, .n_ctx = 4096, .n_vocab = 50304, .n_expert = 64,
       .n_expert_used = 8},
  };
  return kPresets;
}

std::optional<ModelShape> find_model_preset(std::string_view name) {
  for (const auto& shape : model_presets()) {
    if (shape.preset == name) return shape;
  }
  return std::nullopt;
}

std::vector<float> llama3_rope_freq_factors(const ModelShape& s) {
  const int64_t head_dim = s.n_embd / s.n_head;
  std::vector<float> factors(static_cast<size_t>(head_dim / 2), 1.0f);
  if (s.rope_scaling_factor <= 0.0f) return factors;
  const double low_wavelen = static_cast<double>(s.rope_original_ctx) / s.rope_low_freq_factor;
  const double high_wavelen = static_cast<double>(s.rope_original_ctx) / s.rope_high_freq_factor;
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double freq = std::pow(static_cast<double>(s.rope_theta), -2.0 * static_cast<double>(i) / head_dim);
    const double wavelen = 2.0 * M_PI / freq;
    double factor = 1.0;
    if (wavelen > low_wavelen) {
      factor = s.rope_scaling_factor;
    } else if (wavelen >= high_wavelen) {
      const double smooth = (s.rope_original_ctx / wavelen - s.rope_low_freq_factor) /
                            (s.rope_high_freq_factor - s.rope_low_freq_factor);
      factor = 1.0 / ((1.0 - smooth) / s.rope_scaling_factor + smooth);
    }
    factors[static_cast<size_t>(i)] = static_cast<float>(factor);
  }
  return factors;
}

}  // namespace frugal
