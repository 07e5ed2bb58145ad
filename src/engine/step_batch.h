// StepBatch: turns the scheduler's chunks into the model's ForwardBatch (engine layer): token ids,
// positions, the K/V row each new token writes, and each sequence's slot table built from its
// block table (slot = block_id * block_size + position % block_size). A chunk may run past the
// committed tokens into the sequence's spec_tokens (speculative verification): those rows and the
// last committed one all get logits. Buffers are reused.
#pragma once

#include "engine/batch_buffers.h"
#include "engine/scheduler.h"

namespace frugal {

class StepBatch {
 public:
  void build(const SchedulerOutput& out, const KvCacheManager& kv);
  ForwardBatch view() const { return buffers_.view(); }

 private:
  BatchBuffers buffers_;
};

}  // namespace frugal
