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
// Queries attended together: they share each tile's K/V rows (loaded once for the block) and the
// tile's slot offsets.
constexpr int64_t kMaxBlockQueries = 8;

// A block of queries over one K/V head: a run of one sequence's tokens x the head's query heads.
struct QueryBlock {
  int64_t seq = 0;         // index into seqs
  int64_t token0 = 0;      // first token of the run
  int64_t n_tokens = 0;    // tokens in the block
  int64_t kv_head = 0;
};

// Per-thread scratch of one block: queries, their accumulators, scores and softmax state.
struct BlockScratch {
  std::vector<float> q, acc, scores;  // [n_q, head_dim], [n_q, head_dim], [n_q, kTilePositions]
  std::vector<int64_t> n_visible, n_rows;
  std::vector<float> running_max;
  std::vector<double> running_sum;
};

// Every query j of the block: online softmax over tiles of positions [0, n_visible[j]), exactly as
// if it were attended alone: per tile its scores, the maximum over its own positions, its own exp
// sum and weighted V rows (the kernels' per-query arithmetic does not depend on the block).
void attend_block(const KernelTable& kt, const QueryBlock& blk, const float* q, const int32_t* positions,
                  const KvRows& kv, const AttentionSeq& seq, const AttentionShape& shape, float* out, BlockScratch& s) {
  const int64_t group = shape.n_head / shape.n_head_kv;
  const int64_t dim = shape.head_dim;
  const int64_t n_q = blk.n_tokens * group;
  s.q.resize(static_cast<size_t>(n_q * dim));
  s.acc.assign(static_cast<size_t>(n_q * dim), 0.0f);
  s.scores.resize(static_cast<size_t>(n_q * kTilePositions));
  s.n_visible.resize(static_cast<size_t>(n_q));
  s.n_rows.resize(static_cast<size_t>(n_q));
  s.running_max.assign(static_cast<size_t>(n_q), -std::numeric_limits<float>::infinity());
  s.running_sum.assign(static_cast<size_t>(n_q), 0.0);
  int64_t n_max = 0;
  for (int64_t j = 0; j < n_q; ++j) {
    const int64_t t = blk.token0 + j / group;
    const int64_t h = blk.kv_head * group + j % group;
    std::copy_n(q + (t * shape.n_head + h) * dim, dim, s.q.data() + j * dim);
    s.n_visible[static_cast<size_t>(j)] = static_cast<int64_t>(positions[t]) + 1;
    DCHECK(s.n_visible[static_cast<size_t>(j)] <= seq.n_kv, "attention: position beyond the sequence's K/V history");
    n_max = std::max(n_max, s.n_visible[static_cast<size_t>(j)]);
  }
  const int64_t kv_head_offset = blk.kv_head * dim;
  int64_t offsets[kTilePositions];  // floats from the start of the keys / values to each row's head
  for (int64_t tile_begin = 0; tile_begin < n_max; tile_begin += kTilePositions) {
    const int64_t n = std::min(n_max - tile_begin, kTilePositions);
    for (int64_t i = 0; i < n; ++i) {
      offsets[i] = static_cast<int64_t>(seq.slots[tile_begin + i]) * kv.row_stride + kv_head_offset;
    }
    kt.dot_rows_f32(s.q.data(), n_q, kv.keys, offsets, n, dim, shape.scale, s.scores.data(), kTilePositions);
    if (seq.bias != nullptr) {
      for (int64_t j = 0; j < n_q; ++j) {
        float* scores = s.scores.data() + j * kTilePositions;
        for (int64_t i = 0; i < n; ++i) scores[i] += seq.bias[tile_begin + i];
      }
    }
    for (int64_t j = 0; j < n_q; ++j) {
      const auto jj = static_cast<size_t>(j);
      const int64_t n_j = std::clamp<int64_t>(s.n_visible[jj] - tile_begin, 0, n);  // this query's rows here
      s.n_rows[jj] = n_j;
      if (n_j == 0) continue;
      float* scores = s.scores.data() + j * kTilePositions;
      const float tile_max = kt.max_f32(scores, n_j);
      if (tile_max > s.running_max[jj]) {  // rescale what was accumulated under the old maximum
        const float correction = static_cast<float>(std::exp(static_cast<double>(s.running_max[jj]) - tile_max));
        s.running_sum[jj] *= correction;
        float* acc = s.acc.data() + j * dim;
        for (int64_t d = 0; d < dim; ++d) acc[d] *= correction;
        s.running_max[jj] = tile_max;
      }
      s.running_sum[jj] += kt.exp_shifted_f32(scores, n_j, s.running_max[jj]);
    }
    kt.axpy_rows_f32(s.scores.data(), kTilePositions, s.n_rows.data(), n_q, kv.values, offsets, dim, s.acc.data());
  }
  for (int64_t j = 0; j < n_q; ++j) {
    const int64_t t = blk.token0 + j / group;
    const int64_t h = blk.kv_head * group + j % group;
    const double inv_sum = 1.0 / s.running_sum[static_cast<size_t>(j)];
    const float* acc = s.acc.data() + j * dim;
    float* o = out + (t * shape.n_head + h) * dim;
    for (int64_t d = 0; d < dim; ++d) o[d] = static_cast<float>(acc[d] * inv_sum);
  }
}

}  // namespace

void attention(const float* q, const int32_t* positions, const int32_t* seq_of_token, int64_t n_tokens,
               const KvRows& kv, const AttentionSeq* seqs, const AttentionShape& shape, float* out, ThreadPool& pool) {
  CHECK(shape.n_head_kv > 0 && shape.n_head % shape.n_head_kv == 0, "attention: bad head counts");
  const int64_t group = shape.n_head / shape.n_head_kv;
  // Blocks: runs of consecutive tokens of one sequence, cut to kMaxBlockQueries queries, times the
  // K/V heads.
  const int64_t tokens_per_block = std::max<int64_t>(1, kMaxBlockQueries / group);
  std::vector<QueryBlock> blocks;
  for (int64_t t0 = 0; t0 < n_tokens;) {
    int64_t t1 = t0 + 1;
    while (t1 < n_tokens && t1 - t0 < tokens_per_block && seq_of_token[t1] == seq_of_token[t0]) ++t1;
    for (int64_t g = 0; g < shape.n_head_kv; ++g) blocks.push_back({seq_of_token[t0], t0, t1 - t0, g});
    t0 = t1;
  }
  const KernelTable& kt = kernels();
  pool.parallel_for(static_cast<int64_t>(blocks.size()), [&](int64_t begin, int64_t end) {
    thread_local BlockScratch scratch;
    for (int64_t b = begin; b < end; ++b) {
      const QueryBlock& blk = blocks[static_cast<size_t>(b)];
      attend_block(kt, blk, q, positions, kv, seqs[blk.seq], shape, out, scratch);
    }
  });
}

}  // namespace frugal

namespace frugal {

void attention_full(const float* q, int64_t n_q, const float* keys, const float* values, int64_t n_kv,
                    const AttentionShape& shape, float* out, ThreadPool& pool) {
  CHECK(n_kv > 0, "attention_full needs at least one key");
  std::vector<int32_t> slots(static_cast<size_t>(n_kv));
  for (int64_t p = 0; p < n_kv; ++p) slots[p] = static_cast<int32_t>(p);
  // Every query sits after the last key, so it sees all of them.
  std::vector<int32_t> positions(static_cast<size_t>(n_q), static_cast<int32_t>(n_kv - 1));
  std::vector<int32_t> seq_of_token(static_cast<size_t>(n_q), 0);
  const KvRows kv{keys, values, shape.n_head_kv * shape.head_dim};
  const AttentionSeq seq{slots.data(), n_kv};
  attention(q, positions.data(), seq_of_token.data(), n_q, kv, &seq, shape, out, pool);
}

}  // namespace frugal
