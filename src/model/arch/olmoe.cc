// Architecture "olmoe" (model layer): OLMoE-1B-7B. NeoX RoPE, no biases, RMSNorm over the whole
// Q and K projections (attn_q_norm [q_dim], attn_k_norm [kv_dim]) before RoPE; softmax routing
// with the top-k probabilities used as they are; experts n_ff wide.
#include "model/architecture.h"

namespace frugal {

const Architecture& olmoe_architecture() {
  static const Architecture kOlmoe = {
      .name = "olmoe",
      .family = "OLMoE",
      .rope_mode = RopeMode::kNeox,
      .qkv_bias = false,
      .qk_norm = QkNorm::kFull,
      .moe = {.experts = ExpertFfn::kRequired, .weights_norm = false, .ff_exp_key = false, .shared_expert = false},
      .read_extra = nullptr,
  };
  return kOlmoe;
}

}  // namespace frugal
