// Causal multi-head attention with grouped-query heads over K/V rows addressed through slot
// tables (ops layer). A sequence's position p lives in K/V row slots[p]: contiguous caches use
// slots = 0..n-1, the paged cache gives block_table[p / block_size] * block_size + p % block_size.
// Several sequences can be attended in one call (a continuous-batching step).
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

// K/V rows of one layer: row r of keys is at keys + r * row_stride ([n_head_kv, head_dim] floats).
struct KvRows {
  const float* keys = nullptr;
  const float* values = nullptr;
  int64_t row_stride = 0;
};

// One sequence's history: position p (0 <= p < n_kv) is K/V row slots[p]. bias, when set, adds
// bias[p] to position p's scaled score (a log-multiplicity: a pooled row standing for bias = log(m)
// rows, as the tiled video attention's pooled remainder uses); null adds nothing.
struct AttentionSeq {
  const int32_t* slots = nullptr;
  int64_t n_kv = 0;
  const float* bias = nullptr;  // [n_kv] or null
};

// For each token t of sequence seqs[seq_of_token[t]] at position positions[t]:
//   out[t, h, :] = softmax_p(q[t, h, :] . K[slot(p), g(h), :] * scale + bias[p], p <= positions[t]) . V[slot(p), g(h), :]
//   q, out: [n_tokens, n_head, head_dim]. Softmax is computed online (one pass, running max and
//   sum in double), so no score buffer grows with the context. The queries of a K/V head over a
//   run of one sequence's tokens are attended as a block (up to 8 queries sharing each tile's K/V
//   loads); a query's arithmetic is the same as alone, so its output does not depend on the batch.
void attention(const float* q, const int32_t* positions, const int32_t* seq_of_token, int64_t n_tokens,
               const KvRows& kv, const AttentionSeq* seqs, const AttentionShape& shape, float* out, ThreadPool& pool);

// Full (non-causal) attention: every query attends to all n_kv keys, as a video DiT's self- and
// cross-attention do. The same op as above with every query placed after the last key.
//   q, out: [n_q, n_head, head_dim]; keys, values: [n_kv, n_head_kv, head_dim] (contiguous rows)
void attention_full(const float* q, int64_t n_q, const float* keys, const float* values, int64_t n_kv,
                    const AttentionShape& shape, float* out, ThreadPool& pool);

}  // namespace frugal
