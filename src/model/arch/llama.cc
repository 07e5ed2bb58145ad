// Architecture "llama" (model layer): Llama 2, Llama 3/3.1/3.2, TinyLlama, Mistral 7B, SmolLM.
// RoPE in NORM mode (the GGUF converter permutes Q/K so adjacent pairs rotate); no biases;
// Llama 3.1+ frequency scaling arrives as the optional `rope_freqs.weight` tensor.
#include "model/architecture.h"

namespace frugal {

const Architecture& llama_architecture() {
  static const Architecture kLlama = {
      .name = "llama",
      .family = "Llama 2/3/3.1/3.2, TinyLlama, Mistral, SmolLM",
      .rope_mode = RopeMode::kNormal,
      .qkv_bias = false,
      .read_extra = nullptr,
  };
  return kLlama;
}

}  // namespace frugal
