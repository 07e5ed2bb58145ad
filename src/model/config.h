// ModelConfig: the hyper-parameters of a decoder-only transformer, read from GGUF metadata (model layer).
#pragma once

#include <cstdint>
#include <string>

#include "ops/rope.h"

namespace frugal {

struct ModelConfig {
  std::string arch;          // general.architecture, e.g. "llama"
  std::string name;          // general.name (may be empty)
  int64_t n_vocab = 0;       // rows of token_embd
  int64_t n_ctx_train = 0;   // <arch>.context_length
  int64_t n_embd = 0;        // <arch>.embedding_length
  int64_t n_layer = 0;       // <arch>.block_count
  int64_t n_head = 0;        // <arch>.attention.head_count
  int64_t n_head_kv = 0;     // <arch>.attention.head_count_kv (defaults to n_head: MHA)
  int64_t head_dim = 0;      // <arch>.attention.key_length (defaults to n_embd / n_head)
  int64_t n_ff = 0;          // <arch>.feed_forward_length
  float rms_eps = 1e-5f;     // <arch>.attention.layer_norm_rms_epsilon
  RopeParams rope;           // mode from the architecture; base/scale/factors from metadata
  bool qkv_bias = false;     // attention projections carry biases (Qwen2)
  bool tied_output = false;  // no output.weight: token_embd is reused as the output matrix

  int64_t q_dim() const { return n_head * head_dim; }     // width of Q
  int64_t kv_dim() const { return n_head_kv * head_dim; } // width of K and of V
  // Bytes of an f32 K+V cache for n_ctx positions.
  int64_t kv_bytes_f32(int64_t n_ctx) const { return 2 * n_layer * n_ctx * kv_dim() * 4; }
};

}  // namespace frugal
