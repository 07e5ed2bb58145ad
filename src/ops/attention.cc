#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/check.h"

namespace frugal {
namespace {

// One (token, head) pair: scores over the visible history, softmax, weighted sum of values.
// The softmax sums in double, as ggml's soft_max does, so long contexts do not lose precision.
void attend_one(const float* q, int64_t n_visible, const KvHistory& kv, int64_t kv_head_offset,
                int64_t head_dim, float scale, std::vector<float>& scores, float* out) {
  scores.resize(static_cast<size_t>(n_visible));
  float max_score = -std::numeric_limits<float>::infinity();
  for (int64_t p = 0; p < n_visible; ++p) {
    const float* k = kv.keys + p * kv.row_stride + kv_head_offset;
    float dot = 0.0f;
    for (int64_t i = 0; i < head_dim; ++i) dot += q[i] * k[i];
    const float s = dot * scale;
    scores[static_cast<size_t>(p)] = s;
    max_score = std::max(max_score, s);
  }
  double sum = 0.0;
  for (int64_t p = 0; p < n_visible; ++p) {
    const float e = std::exp(scores[static_cast<size_t>(p)] - max_score);
    scores[static_cast<size_t>(p)] = e;
    sum += e;
  }
  const float inv_sum = static_cast<float>(1.0 / sum);
  std::fill(out, out + head_dim, 0.0f);
  for (int64_t p = 0; p < n_visible; ++p) {
    const float w = scores[static_cast<size_t>(p)] * inv_sum;
    const float* v = kv.values + p * kv.row_stride + kv_head_offset;
    for (int64_t i = 0; i < head_dim; ++i) out[i] += w * v[i];
  }
}

}  // namespace

void attention(const float* q, const int32_t* positions, int64_t n_tokens, const KvHistory& kv,
               const AttentionShape& shape, float* out, ThreadPool& pool) {
  CHECK(shape.n_head_kv > 0 && shape.n_head % shape.n_head_kv == 0, "attention: bad head counts");
  const int64_t group = shape.n_head / shape.n_head_kv;
  const int64_t n_pairs = n_tokens * shape.n_head;
  pool.parallel_for(n_pairs, [&](int64_t begin, int64_t end) {
    std::vector<float> scores;
    for (int64_t pair = begin; pair < end; ++pair) {
      const int64_t t = pair / shape.n_head;
      const int64_t h = pair % shape.n_head;
      const int64_t n_visible = static_cast<int64_t>(positions[t]) + 1;
      DCHECK(n_visible <= kv.n_kv, "attention: position beyond the K/V history");
      const int64_t kv_head_offset = (h / group) * shape.head_dim;
      const float* qh = q + (t * shape.n_head + h) * shape.head_dim;
      float* oh = out + (t * shape.n_head + h) * shape.head_dim;
      attend_one(qh, n_visible, kv, kv_head_offset, shape.head_dim, shape.scale, scores, oh);
    }
  });
}

}  // namespace frugal
