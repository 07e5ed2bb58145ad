#include "ops/attention_bias.h"

#include <cmath>
#include <limits>
#include <vector>

#include "core/check.h"

namespace frugal {
namespace {

// Dot product with 8 independent float partial sums: the compiler vectorizes it without -ffast-math.
// (PyTorch's einsum is a float32 BLAS GEMM; its summation order differs too, by ~1 ulp per term.)
float dot_f32(const float* a, const float* b, int64_t n) {
  constexpr int kLanes = 8;
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int lane = 0; lane < kLanes; ++lane) acc[lane] += a[i + lane] * b[i + lane];
  }
  float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

struct RowJob {
  const float* q;
  const float* k;
  const float* v;
  int64_t n_q;
  int64_t n_kv;
  BiasedAttentionShape shape;
  RelativeBias bias;
  const int32_t* key_mask;
  float* out;
};

// One (query, head) row: scores, float32 softmax, weighted sum of values. scores: [n_kv] scratch.
void attend_row(const RowJob& job, int64_t q_idx, int64_t head_idx, float* scores) {
  const int64_t n_head = job.shape.n_head;
  const int64_t head_dim = job.shape.head_dim;
  const int64_t row_stride = n_head * head_dim;
  const float* q_row = job.q + q_idx * row_stride + head_idx * head_dim;  // [head_dim]
  constexpr float kMaskedScore = std::numeric_limits<float>::lowest();    // torch.finfo(float32).min
  float max_score = kMaskedScore;
  for (int64_t kv_idx = 0; kv_idx < job.n_kv; ++kv_idx) {
    if (job.key_mask != nullptr && job.key_mask[kv_idx] == 0) {
      scores[kv_idx] = kMaskedScore;
      continue;
    }
    float s = job.shape.scale * dot_f32(q_row, job.k + kv_idx * row_stride + head_idx * head_dim, head_dim);
    if (job.bias.table != nullptr) {
      const int32_t bucket = job.bias.offset_bucket[kv_idx - q_idx + job.n_q - 1];
      s += job.bias.table[bucket * n_head + head_idx];
    }
    scores[kv_idx] = s;
    if (s > max_score) max_score = s;
  }
  float sum = 0.0f;
  for (int64_t kv_idx = 0; kv_idx < job.n_kv; ++kv_idx) {
    scores[kv_idx] = std::exp(scores[kv_idx] - max_score);
    sum += scores[kv_idx];
  }
  const float inv_sum = 1.0f / sum;
  float* out_row = job.out + q_idx * row_stride + head_idx * head_dim;  // [head_dim]
  for (int64_t d = 0; d < head_dim; ++d) out_row[d] = 0.0f;
  for (int64_t kv_idx = 0; kv_idx < job.n_kv; ++kv_idx) {
    const float p = scores[kv_idx] * inv_sum;
    if (p == 0.0f) continue;  // masked keys (exp underflows to exactly 0) add nothing
    const float* v_row = job.v + kv_idx * row_stride + head_idx * head_dim;
    for (int64_t d = 0; d < head_dim; ++d) out_row[d] += p * v_row[d];
  }
}

}  // namespace

void attention_rel_bias(const float* q, int64_t n_q, const float* k, const float* v, int64_t n_kv,
                        const BiasedAttentionShape& shape, const RelativeBias& bias, const int32_t* key_mask,
                        float* out, ThreadPool& pool) {
  CHECK(n_q >= 0 && n_kv >= 0 && shape.n_head > 0 && shape.head_dim > 0, "attention_rel_bias: bad shape");
  if (n_q == 0) return;
  CHECK(n_kv > 0, "attention_rel_bias: queries need at least one key");
  if (bias.table != nullptr) {
    CHECK(bias.offset_bucket != nullptr && bias.num_buckets > 0, "attention_rel_bias: bias table without buckets");
    for (int64_t i = 0; i < n_q + n_kv - 1; ++i) {
      CHECK(bias.offset_bucket[i] >= 0 && bias.offset_bucket[i] < bias.num_buckets,
            "attention_rel_bias: bucket id out of range");
    }
  }
  const RowJob job{q, k, v, n_q, n_kv, shape, bias, key_mask, out};
  // Rows are (query, head) pairs, query-major, so a thread's range writes contiguous output.
  pool.parallel_for(n_q * shape.n_head, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(static_cast<size_t>(n_kv));  // [n_kv]
    for (int64_t row = begin; row < end; ++row) attend_row(job, row / shape.n_head, row % shape.n_head, scores.data());
  });
}

}  // namespace frugal
