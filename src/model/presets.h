// Named model shapes (model layer): used by `frugal mkmodel` to write random-weight models of real
// architectures and by the cost planner to describe models without a file.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace frugal {

struct ModelShape {
  std::string preset;        // "llama-1b"
  std::string description;   // "Llama-3.2-1B"
  std::string arch = "llama";
  int64_t n_layer = 0;
  int64_t n_embd = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_ff = 0;
  int64_t n_ctx = 0;
  int64_t n_vocab = 0;       // of the real model (mkmodel takes the vocabulary's own size)
  float rope_theta = 10000.0f;
  float rms_eps = 1e-5f;
  bool tied_output = false;
  // Mixture of experts (n_expert > 0): experts n_ff_exp wide (0 = n_ff), top-n_expert_used routing;
  // n_ff_shexp > 0 adds Qwen2-MoE's shared expert.
  int64_t n_expert = 0;
  int64_t n_expert_used = 0;
  int64_t n_ff_exp = 0;
  int64_t n_ff_shexp = 0;
  // Llama 3.1+ frequency scaling (written as rope_freqs.weight); factor 0 = none.
  float rope_scaling_factor = 0.0f;
  float rope_low_freq_factor = 1.0f;
  float rope_high_freq_factor = 4.0f;
  int64_t rope_original_ctx = 8192;
};

const std::vector<ModelShape>& model_presets();
std::optional<ModelShape> find_model_preset(std::string_view name);

// Llama-3-style per-frequency divisors [head_dim/2] for the shape's rope scaling.
std::vector<float> llama3_rope_freq_factors(const ModelShape& shape);

}  // namespace frugal
