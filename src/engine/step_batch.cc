#include "engine/step_batch.h"

#include <algorithm>
#include <vector>

#include "core/check.h"

namespace frugal {

size_t StepBatch::add_tree(size_t seq_idx, const Sequence& seq, const std::vector<int32_t>& table) {
  // Node i: position root + depth_i, K/V in the slot of block-table position root + 1 + i. The tree
  // is cut into chains: a node continues its parent's chain when it is the parent's first child,
  // otherwise it starts one. A chain is one AttentionSeq = the committed prefix + the chain head's
  // ancestors + the chain, so each node sees exactly the prefix, its ancestors and itself (the tree
  // attention mask), and a chain's nodes are consecutive tokens of one sequence: attention reads
  // the prefix's K/V once per chain (its query blocks) instead of once per node; a query's
  // arithmetic does not depend on the layout. The root's chain extends the root's own sequence.
  const int32_t n_committed = static_cast<int32_t>(seq.tokens.size());
  const int32_t root = n_committed - 1;
  const int32_t n = static_cast<int32_t>(seq.spec_tokens.size());
  auto slot_of = [&](int32_t node) { return table[static_cast<size_t>(root + 1 + node)]; };
  chain_of_.assign(static_cast<size_t>(n), 0);
  continued_.assign(static_cast<size_t>(n) + 1, 0);  // [parent + 1]: its first child is placed
  int32_t n_chains = 1;                               // chain 0 = the root's
  for (int32_t i = 0; i < n; ++i) {
    const int32_t parent = seq.spec_parents[static_cast<size_t>(i)];
    uint8_t& taken = continued_[static_cast<size_t>(parent + 1)];
    chain_of_[static_cast<size_t>(i)] = taken ? n_chains++ : (parent < 0 ? 0 : chain_of_[static_cast<size_t>(parent)]);
    taken = 1;
  }
  node_row_.assign(static_cast<size_t>(n), -1);
  size_t chunk_seq = seq_idx;
  for (int32_t chain = 0; chain < n_chains; ++chain) {
    int32_t head = -1;  // the chain's first node
    for (int32_t i = 0; i < n && head < 0; ++i) {
      if (chain_of_[static_cast<size_t>(i)] == chain) head = i;
    }
    if (head < 0) continue;  // the root has no child (cannot happen for a tree from the runner)
    size_t target = chunk_seq;
    if (chain == 0) {
      // The root's sequence: its slot list continues with the chain's slots.
      std::vector<int32_t>& slots = buffers_.seq_slots[chunk_seq];
      slots.resize(static_cast<size_t>(n_committed));
      for (int32_t i = 0; i < n; ++i) {
        if (chain_of_[static_cast<size_t>(i)] == 0) slots.push_back(slot_of(i));
      }
      buffers_.seqs[chunk_seq] = AttentionSeq{slots.data(), static_cast<int64_t>(slots.size())};
    } else {
      path_.clear();  // the head's ancestors (root's child first), then the chain
      for (int32_t a = seq.spec_parents[static_cast<size_t>(head)]; a >= 0; a = seq.spec_parents[static_cast<size_t>(a)]) {
        path_.push_back(slot_of(a));
      }
      std::reverse(path_.begin(), path_.end());
      for (int32_t i = head; i < n; ++i) {
        if (chain_of_[static_cast<size_t>(i)] == chain) path_.push_back(slot_of(i));
      }
      target = ++seq_idx;
      buffers_.add_tree_seq(target, table, n_committed, path_);
    }
    int32_t depth = 0;  // of the head: 1 + its ancestors
    for (int32_t a = head; a >= 0; a = seq.spec_parents[static_cast<size_t>(a)]) ++depth;
    for (int32_t i = head; i < n; ++i) {
      if (chain_of_[static_cast<size_t>(i)] != chain) continue;
      buffers_.add_token_at(target, seq.spec_tokens[static_cast<size_t>(i)], root + depth++, slot_of(i));
      node_row_[static_cast<size_t>(i)] = static_cast<int32_t>(buffers_.tokens.size()) - 1;
    }
  }
  // Logit rows in node order (the verifier reads node i's row at 1 + i after the root's).
  for (const int32_t row : node_row_) buffers_.logit_rows.push_back(row);
  return static_cast<size_t>(n_chains - 1);
}

void StepBatch::build(const SchedulerOutput& out, const KvCacheManager& kv) {
  buffers_.clear();
  const int32_t block_size = kv.block_size_tokens();
  size_t seq_idx = 0;  // AttentionSeqs: one per chunk, plus one per Medusa tree chain past the first
  for (size_t chunk_idx = 0; chunk_idx < out.chunks.size(); ++chunk_idx, ++seq_idx) {
    const ScheduledChunk& chunk = out.chunks[chunk_idx];
    const Sequence& seq = *chunk.seq;
    const int32_t n_kv = seq.num_computed_tokens + chunk.num_new_tokens;
    const bool tree = !seq.spec_parents.empty();
    // A tree's root row sees only the committed tokens; add_tree lays out its nodes.
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
      seq_idx += add_tree(seq_idx, seq, table_copy_);
    }
  }
}

}  // namespace frugal
