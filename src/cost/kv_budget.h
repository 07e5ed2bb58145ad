// KvBudget: the KV-cache memory frugal's own engine needs for a batch of sequences (cost layer).
// Central idea: the engine (src/engine/llm_engine.cc) turns --kv-mem into
// floor(kv_mem / (block_tokens x bytes_per_token)) paged blocks and caps a sequence's context
// (prompt + generated tokens, the last sampled token included) at num_blocks x block_tokens; a
// sequence of C tokens therefore needs ceil(C / block_tokens) whole blocks.
#pragma once

#include <cstdint>

#include "cost/llm_shape.h"

namespace frugal {

// Tokens per KV block in frugal's engine (EngineOptions::block_size_tokens' default).
inline constexpr int64_t kFrugalKvBlockTokens = 16;
// frugal's CPU KV cache stores K and V rows in f32 (src/model/kv_store.h).
inline constexpr double kFrugalCpuKvBytesPerElement = 4.0;

struct KvBudget {
  double bytes_per_token = 0;              // K and V of every layer: 2 x n_layer x kv_dim x element bytes
  int64_t block_tokens = kFrugalKvBlockTokens;

  static KvBudget for_shape(const LlmShape& shape, double kv_bytes_per_element,
                            int64_t block_tokens = kFrugalKvBlockTokens);
  double bytes_per_block() const { return bytes_per_token * static_cast<double>(block_tokens); }
  // ceil(context / block_tokens); 0 for context <= 0.
  int64_t blocks_for_context(int64_t context) const;
  // Smallest --kv-mem that holds `batch` sequences of `context` tokens each without preemption.
  double kv_mem_bytes_for(int64_t batch, int64_t context) const;
  // Largest context each of `batch` sequences can reach within kv_mem_bytes (0 when none fits).
  int64_t max_context_at(double kv_mem_bytes, int64_t batch) const;
};

}  // namespace frugal
