// Architecture "qwen2moe" (model layer): Qwen1.5-MoE, Qwen2-57B-A14B. Qwen2's attention (QKV
// biases, NeoX RoPE); routed experts with softmax top-k weights used as they are (not
// renormalised), plus a shared expert whose output is scaled by sigmoid(ffn_gate_inp_shexp · x).
#include "model/architecture.h"

namespace frugal {

const Architecture& qwen2moe_architecture() {
  static const Architecture kQwen2Moe = {
      .name = "qwen2moe",
      .family = "Qwen1.5-MoE, Qwen2-MoE",
      .rope_mode = RopeMode::kNeox,
      .qkv_bias = true,
      .qk_norm = QkNorm::kNone,
      .moe = {.experts = ExpertFfn::kRequired, .weights_norm = false, .ff_exp_key = true, .shared_expert = true},
      .read_extra = nullptr,
  };
  return kQwen2Moe;
}

}  // namespace frugal
