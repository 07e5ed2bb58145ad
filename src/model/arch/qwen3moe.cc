// Architecture "qwen3moe" (model layer): Qwen3-30B-A3B, Qwen3-235B-A22B. NeoX RoPE, no biases,
// per-head RMSNorm of Q and K before RoPE; softmax routing with the top-k probabilities
// renormalised to sum 1; no shared expert.
#include "model/architecture.h"

namespace frugal {

const Architecture& qwen3moe_architecture() {
  static const Architecture kQwen3Moe = {
      .name = "qwen3moe",
      .family = "Qwen3-MoE (30B-A3B, 235B-A22B)",
      .rope_mode = RopeMode::kNeox,
      .qkv_bias = false,
      .qk_norm = QkNorm::kPerHead,
      .moe = {.experts = ExpertFfn::kRequired, .weights_norm = true, .ff_exp_key = true, .shared_expert = false},
      .read_extra = nullptr,
  };
  return kQwen3Moe;
}

}  // namespace frugal
