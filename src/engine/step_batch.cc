#include "engine/step_batch.h"

#include <algorithm>

#include "core/check.h"

namespace frugal {

void StepBatch::build(const SchedulerOutput& out, const KvCacheManager& kv) {
  buffers_.clear();
  const int32_t block_size = kv.block_size_tokens();
  for (size_t chunk_idx = 0; chunk_idx < out.chunks.size(); ++chunk_idx) {
    const ScheduledChunk& chunk = out.chunks[chunk_idx];
    const Sequence& seq = *chunk.seq;
    const int32_t n_kv = seq.num_computed_tokens + chunk.num_new_tokens;
    buffers_.add_seq(chunk_idx, kv.block_table(seq.id), block_size, n_kv);
    // Positions past the committed tokens hold this step's speculative proposals; the last
    // committed token and every proposal get a logits row (the verifier needs each).
    const int32_t n_committed = static_cast<int32_t>(seq.tokens.size());
    DCHECK(n_kv <= n_committed + static_cast<int32_t>(seq.spec_tokens.size()), "chunk past the proposals");
    const int32_t first_logit_pos = chunk.wants_logits ? std::max(seq.num_computed_tokens, n_committed - 1) : n_kv;
    for (int32_t pos = seq.num_computed_tokens; pos < n_kv; ++pos) {
      buffers_.add_token(chunk_idx,
                         pos < n_committed ? seq.tokens[static_cast<size_t>(pos)]
                                           : seq.spec_tokens[static_cast<size_t>(pos - n_committed)],
                         pos);
      if (pos >= first_logit_pos) buffers_.logit_rows.push_back(static_cast<int32_t>(buffers_.tokens.size()) - 1);
    }
  }
}

}  // namespace frugal
