// StepBatch: turns the scheduler's chunks into the model's ForwardBatch (engine layer): token ids,
// positions, the K/V row each new token writes, and each sequence's slot table built from its
// block table (slot = block_id * block_size + position % block_size). A chunk may run past the
// committed tokens into the sequence's spec_tokens (speculative verification): those rows and the
// last committed one all get logits. With spec_parents (Medusa) the proposals are a tree: each node
// gets its own AttentionSeq (prefix + ancestors), see medusa_runner.h. Buffers are reused.
#pragma once

#include "engine/batch_buffers.h"
#include "engine/scheduler.h"

namespace frugal {

class StepBatch {
 public:
  void build(const SchedulerOutput& out, const KvCacheManager& kv);
  ForwardBatch view() const { return buffers_.view(); }

 private:
  // Appends seq's Medusa tree nodes given its slot table (seq_idx: the root's sequence, whose
  // slot list it extends); returns how many sequences it added after seq_idx.
  size_t add_tree(size_t seq_idx, const Sequence& seq, const std::vector<int32_t>& table);

  BatchBuffers buffers_;
  std::vector<int32_t> path_, table_copy_, chain_of_, node_row_;
  std::vector<uint8_t> continued_;
};

}  // namespace frugal
