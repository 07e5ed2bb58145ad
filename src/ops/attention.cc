#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/check.h"
#include "kernels/kernel_table.h"

namespace frugal {
namespace {

// Positions per tile: scores for a tile are computed first, then folded into the running
// softmax, so the rescale (one exp per tile) is amortised and the inner loops stay simple.
constexpr int64_t kTilePositions = 64;

// One (token, head) pair with online softmax over tiles of positions [0, n_visible). Per tile the
// kernel table scores all K rows in one call and adds all weighted V rows in one call (vectorised
// per ISA; the ref table's are plain loops). acc: [head_dim] f32 scratch.
void attend_one(const KernelTable& kt, const float* q, int64_t n_visible, const KvRows& kv, const int32_t* slots,
                int64_t kv_head_offset, int64_t head_dim, float scale, float* out, std::vector<float>& acc) {
  acc.assign(static_cast<size_t>(head_dim), 0.0f);
  float running_max = -std::numeric_limits<float>::infinity();
  double running_sum = 0.0;
  float scores[kTilePositions];   // scaled q . k, then softmax weights exp(score - running_max)
  int64_t offsets[kTilePositions];  // floats from the start of the keys / values to each row's head
  for (int64_t tile_begin = 0; tile_begin < n_visible; tile_begin += kTilePositions) {
    const int64_t n = std::min(n_visible - tile_begin, kTilePositions);
    for (int64_t i = 0; i < n; ++i) {
      offsets[i] = static_cast<int64_t>(slots[tile_begin + i]) * kv.row_stride + kv_head_offset;
    }
    kt.dot_rows_f32(q, kv.keys, offsets, n, head_dim, scale, scores);
    const float tile_max = *std::max_element(scores, scores + n);
    if (tile_max > running_max) {  // rescale what was accumulated under the old maximum
      const float correction = static_cast<float>(std::exp(static_cast<double>(running_max) - tile_max));
      running_sum *= correction;
      for (float& a : acc) a *= correction;
      running_max = tile_max;
    }
    running_sum += kt.exp_shifted_f32(scores, n, running_max);
    kt.axpy_rows_f32(scores, kv.values, offsets, n, head_dim, acc.data());
  }
  const double inv_sum = 1.0 / running_sum;
  for (int64_t i = 0; i < head_dim; ++i) out[i] = static_cast<float>(acc[static_cast<size_t>(i)] * inv_sum);
}

}  // namespace

void attention(const float* q, const int32_t* positions, const int32_t* seq_of_token, int64_t n_tokens,
               const KvRows& kv, const AttentionSeq* seqs, const AttentionShape& shape, float* out, ThreadPool& pool) {
  CHECK(shape.n_head_kv > 0 && shape.n_head % shape.n_head_kv == 0, "attention: bad head counts");
  const int64_t group = shape.n_head / shape.n_head_kv;
  const int64_t n_pairs = n_tokens * shape.n_head;
  const KernelTable& kt = kernels();
  pool.parallel_for(n_pairs, [&](int64_t begin, int64_t end) {
    std::vector<float> acc;
    for (int64_t pair = begin; pair < end; ++pair) {
      const int64_t t = pair / shape.n_head;
      const int64_t h = pair % shape.n_head;
      const AttentionSeq& seq = seqs[seq_of_token[t]];
      const int64_t n_visible = static_cast<int64_t>(positions[t]) + 1;
      DCHECK(n_visible <= seq.n_kv, "attention: position beyond the sequence's K/V history");
      const int64_t kv_head_offset = (h / group) * shape.head_dim;
      const float* qh = q + (t * shape.n_head + h) * shape.head_dim;
      float* oh = out + (t * shape.n_head + h) * shape.head_dim;
      attend_one(kt, qh, n_visible, kv, seq.slots, kv_head_offset, shape.head_dim, shape.scale, oh, acc);
    }
  });
}

}  // namespace frugal
