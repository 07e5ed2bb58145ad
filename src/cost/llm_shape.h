// LlmShape: the sizes of a decoder-only transformer the planner needs, from a named shape or a
// GGUF file (cost layer). Parameter counts are derived from the shape (or summed from the file).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"

namespace frugal {

struct LlmShape {
  std::string name;          // "llama-3-70b"
  std::string description;   // "Llama-3.1-70B"
  int64_t n_layer = 0;
  int64_t n_embd = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;      // 0 = n_embd / n_head
  int64_t n_ff = 0;          // FFN width (per expert for MoE)
  int64_t n_vocab = 0;
  int64_t n_expert = 0;      // 0 = dense
  int64_t n_expert_used = 0; // experts per token (MoE)
  bool tied_output = false;
  // Set when read from a GGUF file: the counts and storage come from its tensors.
  int64_t file_total_params = 0;
  int64_t file_expert_params = 0;
  double file_bytes_per_weight = 0;  // total tensor bytes / total elements
  double file_tensor_bytes = 0;      // every tensor's stored bytes
  double file_embedding_bytes = 0;   // token_embd.weight's stored bytes
  std::string file_weight_type;      // general.file_type as "q8_0", "f16", ... (lower case); "" unknown

  int64_t head_dim_or_default() const { return head_dim > 0 ? head_dim : n_embd / n_head; }
  int64_t q_dim() const { return n_head * head_dim_or_default(); }
  int64_t kv_dim() const { return n_head_kv * head_dim_or_default(); }
  bool is_moe() const { return n_expert > 0 && n_expert_used > 0; }

  int64_t total_params() const;        // everything stored
  int64_t embedding_params() const;    // the input lookup table (read one row per token)
  int64_t expert_params() const;       // all experts' FFN weights (0 for dense)
  // Parameters whose matmuls run per token: all but the input embedding, with MoE experts
  // counted for the n_expert_used chosen per token.
  int64_t active_matmul_params() const;
  // KV bytes per token: 2 (K and V) x n_layer x n_head_kv x head_dim x bytes per element.
  double kv_bytes_per_token(double kv_bytes_per_element) const;
};

// Named planner shapes (published config.json values): Llama-3 8B/70B/405B, Qwen2.5 7B/72B,
// Mistral-7B, Mixtral-8x7B (MoE, 2 of 8 experts), plus the model/presets.h shapes.
const std::vector<LlmShape>& llm_shapes();
std::optional<LlmShape> find_llm_shape(std::string_view name);
std::string llm_shape_names();

// Reads <arch>.block_count, embedding_length, attention.head_count(_kv), key_length,
// feed_forward_length, expert_count, expert_used_count and the tensor sizes.
Expected<LlmShape> llm_shape_from_gguf(const std::string& path);

// A named shape, or a GGUF file when `spec` ends in ".gguf".
Expected<LlmShape> resolve_llm_shape(const std::string& spec);

}  // namespace frugal
