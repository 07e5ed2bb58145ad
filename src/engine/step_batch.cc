#include "engine/step_batch.h"

#include <algorithm>
#include <vector>

#include "core/check.h"

namespace frugal {

void StepBatch::add_tree(size_t seq_idx, const Sequence& seq, const std::vector<int32_t>& table) {
  // Node i: position root + depth_i, K/V in the slot of block-table position root + 1 + i, its
  // own AttentionSeq = the committed prefix + its ancestors + itself (the tree attention mask).
  const int32_t n_committed = static_cast<int32_t>(seq.tokens.size());
  const int32_t root = n_committed - 1;
  for (size_t i = 0; i < seq.spec_tokens.size(); ++i) {
    path_.clear();
    for (int32_t node = static_cast<int32_t>(i); node >= 0; node = seq.spec_parents[static_cast<size_t>(node)]) {
      path_.push_back(table[static_cast<size_t>(root + 1 + node)]);
    }
    std::reverse(path_.begin(), path_.end());
    buffers_.add_tree_seq(seq_idx + 1 + i, table, n_committed, path_);
    buffers_.add_token_at(seq_idx + 1 + i, seq.spec_tokens[i], root + static_cast<int32_t>(path_.size()),
                          table[static_cast<size_t>(root + 1 + static_cast<int32_t>(i))]);
    buffers_.logit_rows.push_back(static_cast<int32_t>(buffers_.tokens.size()) - 1);
  }
}

void StepBatch::build(const SchedulerOutput& out, const KvCacheManager& kv) {
  buffers_.clear();
  const int32_t block_size = kv.block_size_tokens();
  size_t seq_idx = 0;  // AttentionSeqs: one per chunk, plus one per Medusa tree node
  for (size_t chunk_idx = 0; chunk_idx < out.chunks.size(); ++chunk_idx, ++seq_idx) {
    const ScheduledChunk& chunk = out.chunks[chunk_idx];
    const Sequence& seq = *chunk.seq;
    const int32_t n_kv = seq.num_computed_tokens + chunk.num_new_tokens;
    const bool tree = !seq.spec_parents.empty();
    // A tree's root row sees only the committed tokens; its nodes get their own sequences below.
    const std::vector<int32_t>& table =
        buffers_.add_seq(seq_idx, kv.block_table(seq.id), block_size, n_kv);
    if (tree) buffers_.seqs.back().n_kv = static_cast<int64_t>(seq.tokens.size());
    // Positions past the committed tokens hold this step's speculative proposals; the last
    // committed token and every proposal get a logits row (the verifier needs each).
    const int32_t n_committed = static_cast<int32_t>(seq.tokens.size());
    DCHECK(n_kv <= n_committed + static_cast<int32_t>(seq.spec_tokens.size()), "chunk past the proposals");
    const int32_t first_logit_pos = chunk.wants_logits ? std::max(seq.num_computed_tokens, n_committed - 1) : n_kv;
    const int32_t last = tree ? static_cast<int32_t>(seq.tokens.size()) : n_kv;
    for (int32_t pos = seq.num_computed_tokens; pos < last; ++pos) {
      buffers_.add_token(seq_idx,
                         pos < n_committed ? seq.tokens[static_cast<size_t>(pos)]
                                           : seq.spec_tokens[static_cast<size_t>(pos - n_committed)],
                         pos);
      if (pos >= first_logit_pos) buffers_.logit_rows.push_back(static_cast<int32_t>(buffers_.tokens.size()) - 1);
    }
    if (tree) {
      table_copy_.assign(table.begin(), table.end());  // add_tree_seq may move seq_slots' vectors
      add_tree(seq_idx, seq, table_copy_);
      seq_idx += seq.spec_tokens.size();
    }
  }
}

}  // namespace frugal
