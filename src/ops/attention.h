// Causal multi-head attention with grouped-query heads over an f32 K/V history (ops layer).
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace frugal {

struct AttentionShape {
  int64_t n_head = 0;     // query heads
  int64_t n_head_kv = 0;  // key/value heads; n_head % n_head_kv == 0 (GQA group = n_head / n_head_kv)
  int64_t head_dim = 0;
  float scale = 1.0f;     // usually 1/sqrt(head_dim)
};

// One sequence's keys and values for positions [0, n_kv): row p is at base + p * row_stride,
// each row [n_head_kv, head_dim].
struct KvHistory {
  const float* keys = nullptr;
  const float* values = nullptr;
  int64_t row_stride = 0;  // floats between consecutive positions
  int64_t n_kv = 0;
};

// out[t, h, :] = softmax(q[t, h, :] . K[p, g(h), :] * scale, p <= positions[t]) . V[:, g(h), :]
//   q:   [n_tokens, n_head, head_dim]
//   out: [n_tokens, n_head, head_dim]
//   positions[t] < kv.n_kv; keys after positions[t] are masked (causal).
void attention(const float* q, const int32_t* positions, int64_t n_tokens, const KvHistory& kv,
               const AttentionShape& shape, float* out, ThreadPool& pool);

}  // namespace frugal
