// Architecture "llama" (model layer): Llama 2, Llama 3/3.1/3.2, TinyLlama, Mistral 7B, SmolLM.
// RoPE in NORM mode (the GGUF converter permutes Q/K so adjacent pairs rotate); no biases;
// Llama 3.1+ frequency scaling arrives as the optional `rope_freqs.weight` tensor.
// With <arch>.expert_count > 0 it is Mixtral: 3-D expert tensors, softmax routing, the top-k
// probabilities renormalised to sum 1.
#include "model/architecture.h"

namespace frugal {

const Architecture& llama_architecture() {
  static const Architecture kLlama = {
      .name = "llama",
      .family = "Llama 2/3/3.1/3.2, TinyLlama, Mistral, SmolLM, Mixtral",
      .rope_mode = RopeMode::kNormal,
      .qkv_bias = false,
      .qk_norm = QkNorm::kNone,
      .moe = {.experts = ExpertFfn::kOptional, .weights_norm = true, .ff_exp_key = false, .shared_expert = false},
      .read_extra = nullptr,
  };
  return kLlama;
}

}  // namespace frugal
