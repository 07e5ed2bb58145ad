// MedusaRunner: the proposing half of Medusa speculation in the batched engine (engine layer).
// After a step that speculated, the heads read the target's final hidden row of each sequence's
// last chosen token and keep their top candidates (MedusaHeads::top_tokens); the next step turns
// those into the static candidate tree (medusa_tree.h), which the target verifies in its ordinary
// forward pass: StepBatch lays the tree out (one AttentionSeq per node = the prefix + the node's
// ancestors: the tree attention mask, with position = prefix length + depth for RoPE) and the
// engine walks it, sampling each visited row with the request's own sampler and following the
// child that holds the sampled token (so the output is exactly the target's, at any temperature).
//
// KV layout: node i's K/V is written to the slot of block-table position root_pos + 1 + i (slots
// the runner reserves like a chain's proposals); after the walk `compact` moves the accepted
// nodes' rows to root_pos + 1, + 2, ... (the slots sequential decoding would have written; node
// rows already computed at their final position, so their contents are the same) and the engine
// truncates the rest away.
// Threading: engine thread only.
#pragma once

#include <memory>
#include <vector>

#include "engine/medusa_heads.h"
#include "engine/medusa_tree.h"
#include "engine/scheduler.h"

namespace frugal {

class MedusaRunner {
 public:
  MedusaRunner(std::shared_ptr<const MedusaHeads> heads, int32_t tree_nodes);

  const MedusaTree& tree() const { return tree_; }

  // For each decode chunk allowed to speculate: marks the sequence for a heads update, and if its
  // candidates are fresh lays out up to node_caps[i] tree nodes of depth <= depth_caps[i] in
  // spec_tokens / spec_parents, reserving their KV slots (skipped when the cache is full).
  void propose(const std::vector<ScheduledChunk*>& chunks, const std::vector<int32_t>& node_caps,
               const std::vector<int32_t>& depth_caps, KvCacheManager& kv, KvStore& target_kv);

  // Runs the heads for seqs[i] on hidden row rows[i] of `hidden` ([*, n_embd], the forward's
  // final-norm rows) and stores their candidates.
  void update(const std::vector<Sequence*>& seqs, const std::vector<int64_t>& rows, const float* hidden,
              ThreadPool& pool);

  // Moves the K/V rows of the accepted tree nodes `path` (node indices, root's child first) from
  // their tree slots to the sequential positions after root_pos.
  static void compact(SeqId seq, int32_t root_pos, const std::vector<int32_t>& path, const KvCacheManager& kv,
                      KvStore& store);

 private:
  std::shared_ptr<const MedusaHeads> heads_;
  MedusaTree tree_;
  int32_t heads_used_;  // the tree's depth: deeper heads are never scored
  MedusaHeads::Scratch scratch_;
  std::vector<float> hidden_rows_;
  std::vector<int32_t> top_;
};

}  // namespace frugal
