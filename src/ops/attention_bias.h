// Full attention with an additive relative-position bias and a key mask (ops layer), as the T5 family
// computes it: scores = scale · q·k + bias[h, bucket(k − q)], masked keys forced to the float32 minimum,
// softmax in float32. Backend-neutral: plain loops, parallel over (head, query) rows with the pool.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace frugal {

// The bias of query i and key j in head h is table[offset_bucket[(j − i) + (n_q − 1)] · n_head + h].
// The bias depends only on the offset k − q, so a Toeplitz "bucket matrix" is stored as one row of
// n_q + n_kv − 1 bucket ids instead of n_q · n_kv (T5's T5RelativeEmbedding, layer by layer).
struct RelativeBias {
  const float* table = nullptr;            // [num_buckets, n_head] (nn.Embedding(num_buckets, n_head).weight)
  int64_t num_buckets = 0;
  const int32_t* offset_bucket = nullptr;  // [n_q + n_kv − 1] bucket of offset (j − i), index (j − i) + n_q − 1
};

struct BiasedAttentionShape {
  int64_t n_head = 0;
  int64_t head_dim = 0;
  float scale = 1.0f;  // T5 uses no 1/√head_dim: 1
};

// For every query i and head h:
//   s[j] = scale · (q[i, h, :] · k[j, h, :]) + bias(h, i, j)    if key_mask[j] != 0
//   s[j] = finfo(float32).min                                    otherwise (REPLACED, not added)
//   out[i, h, :] = Σ_j softmax(s)[j] · v[j, h, :]
// All in float32 as PyTorch does. A masked key gets exp(min − max) = 0 exactly while any key of the row
// is unmasked; with every key masked, every score is the minimum and the softmax is uniform (as torch).
//   q, out: [n_q, n_head, head_dim]; k, v: [n_kv, n_head, head_dim] (contiguous rows)
//   key_mask: [n_kv] nonzero = attend, or null (every key attends). bias.table null = no bias.
void attention_rel_bias(const float* q, int64_t n_q, const float* k, const float* v, int64_t n_kv,
                        const BiasedAttentionShape& shape, const RelativeBias& bias, const int32_t* key_mask,
                        float* out, ThreadPool& pool);

}  // namespace frugal
