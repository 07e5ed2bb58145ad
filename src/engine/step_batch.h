// StepBatch: turns the scheduler's chunks into the model's ForwardBatch (engine layer): token ids,
// positions, the K/V row each new token writes, and each sequence's slot table built from its
// block table (slot = block_id * block_size + position % block_size). A chunk may run past the
// committed tokens into the sequence's spec_tokens (speculative verification): those rows and the
// last committed one all get logits. Buffers are reused.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/scheduler.h"
#include "model/model.h"

namespace frugal {

class StepBatch {
 public:
  void build(const SchedulerOutput& out, const KvCacheManager& kv);
  const ForwardBatch& view() const { return batch_; }

 private:
  std::vector<int32_t> tokens_, positions_, slots_, seq_of_token_, logit_rows_;
  std::vector<std::vector<int32_t>> seq_slots_;  // [n_seqs][n_kv]
  std::vector<AttentionSeq> seqs_;
  ForwardBatch batch_;
};

}  // namespace frugal
