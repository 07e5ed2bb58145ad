// Rotary position embedding (ops layer).
#pragma once

#include <cstdint>
#include <vector>

namespace frugal {

enum class RopeMode {
  kNormal,  // rotates adjacent pairs (x[2i], x[2i+1]): llama.cpp's NORM mode (Llama GGUFs are permuted for it)
  kNeox,    // rotates (x[i], x[i + n_rot/2]): GPT-NeoX / Qwen2
};

struct RopeParams {
  RopeMode mode = RopeMode::kNormal;
  int32_t n_rot = 0;            // rotated dimensions per head (<= head_dim; the rest pass through)
  float freq_base = 10000.0f;   // theta
  float freq_scale = 1.0f;      // linear scaling: position multiplier (1/factor)
  std::vector<float> freq_factors;  // [n_rot/2] per-frequency divisors (Llama 3.1 "rope_freqs"), empty = none
};

// Precomputed inverse frequencies for one RopeParams: theta_i = base^(-2i/n_rot) / factor_i.
class RopeTable {
 public:
  explicit RopeTable(const RopeParams& params);
  // x: [n_tokens, n_heads, head_dim]; positions: [n_tokens]. In place.
  void apply(float* x, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const int32_t* positions) const;
  const RopeParams& params() const { return params_; }

 private:
  RopeParams params_;
  std::vector<float> inv_freq_;  // [n_rot/2]
};

}  // namespace frugal
