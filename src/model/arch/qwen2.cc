// Architecture "qwen2" (model layer): Qwen2 / Qwen2.5. Biases on the Q, K and V projections and
// RoPE in NeoX mode (rotating x[i] with x[i + n_rot/2]).
#include "model/architecture.h"

namespace frugal {

const Architecture& qwen2_architecture() {
  static const Architecture kQwen2 = {
      .name = "qwen2",
      .family = "Qwen2, Qwen2.5",
      .rope_mode = RopeMode::kNeox,
      .qkv_bias = true,
      .qk_norm = QkNorm::kNone,
      .moe = {.experts = ExpertFfn::kNone, .weights_norm = false, .ff_exp_key = false, .shared_expert = false},
      .read_extra = nullptr,
  };
  return kQwen2;
}

}  // namespace frugal
