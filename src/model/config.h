// ModelConfig: the hyper-parameters of a decoder-only transformer, read from GGUF metadata (model layer).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "ops/rope.h"

namespace frugal {

// Normalisation of the attention projections before RoPE.
enum class QkNorm {
  kNone,
  kPerHead,  // Qwen3: RMSNorm over each head's head_dim values (attn_{q,k}_norm: [head_dim])
  kFull,     // OLMoE: RMSNorm over the whole projection (attn_q_norm: [q_dim], attn_k_norm: [kv_dim])
};

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
  QkNorm qk_norm = QkNorm::kNone;

  // Mixture of experts (n_expert > 0): each token's FFN is the probability-weighted sum of the
  // n_expert_used experts its router (ffn_gate_inp) scores highest, plus a shared expert if any.
  int64_t n_expert = 0;           // <arch>.expert_count (0 = dense FFN)
  int64_t n_expert_used = 0;      // <arch>.expert_used_count (top-k)
  int64_t n_ff_exp = 0;           // FFN width of one expert
  int64_t n_ff_shexp = 0;         // FFN width of the always-on shared expert (0 = none; Qwen2-MoE)
  bool expert_weights_norm = false;  // renormalise the k chosen softmax probabilities to sum 1

  bool is_moe() const { return n_expert > 0; }
  // FFN width of the activation buffers: the dense FFN, one expert, or the shared expert.
  int64_t ffn_scratch_width() const { return is_moe() ? std::max(n_ff_exp, n_ff_shexp) : n_ff; }

  int64_t q_dim() const { return n_head * head_dim; }     // width of Q
  int64_t kv_dim() const { return n_head_kv * head_dim; } // width of K and of V
  // Bytes of an f32 K+V cache for n_ctx positions.
  int64_t kv_bytes_f32(int64_t n_ctx) const { return 2 * n_layer * n_ctx * kv_dim() * 4; }
};

}  // namespace frugal
