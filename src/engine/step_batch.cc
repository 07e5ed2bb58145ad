#include "engine/step_batch.h"

#include <algorithm>

#include "core/check.h"

namespace frugal {

void StepBatch::build(const SchedulerOutput& out, const KvCacheManager& kv) {
  tokens_.clear();
  positions_.clear();
  slots_.clear();
  seq_of_token_.clear();
  logit_rows_.clear();
  seqs_.clear();
  if (seq_slots_.size() < out.chunks.size()) seq_slots_.resize(out.chunks.size());
  const int32_t block_size = kv.block_size_tokens();
  for (size_t chunk_idx = 0; chunk_idx < out.chunks.size(); ++chunk_idx) {
    const ScheduledChunk& chunk = out.chunks[chunk_idx];
    const Sequence& seq = *chunk.seq;
    const int32_t n_kv = seq.num_computed_tokens + chunk.num_new_tokens;
    const std::vector<BlockId>& table = kv.block_table(seq.id);
    std::vector<int32_t>& seq_slots = seq_slots_[chunk_idx];
    seq_slots.resize(static_cast<size_t>(n_kv));
    for (int32_t pos = 0; pos < n_kv; ++pos) {
      seq_slots[static_cast<size_t>(pos)] = table[static_cast<size_t>(pos / block_size)] * block_size + pos % block_size;
    }
    // Positions past the committed tokens hold this step's speculative proposals; the last
    // committed token and every proposal get a logits row (the verifier needs each).
    const int32_t n_committed = static_cast<int32_t>(seq.tokens.size());
    DCHECK(n_kv <= n_committed + static_cast<int32_t>(seq.spec_tokens.size()), "chunk past the proposals");
    const int32_t first_logit_pos = chunk.wants_logits ? std::max(seq.num_computed_tokens, n_committed - 1) : n_kv;
    for (int32_t pos = seq.num_computed_tokens; pos < n_kv; ++pos) {
      tokens_.push_back(pos < n_committed ? seq.tokens[static_cast<size_t>(pos)]
                                          : seq.spec_tokens[static_cast<size_t>(pos - n_committed)]);
      positions_.push_back(pos);
      slots_.push_back(seq_slots[static_cast<size_t>(pos)]);
      seq_of_token_.push_back(static_cast<int32_t>(chunk_idx));
      if (pos >= first_logit_pos) logit_rows_.push_back(static_cast<int32_t>(tokens_.size()) - 1);
    }
    seqs_.push_back(AttentionSeq{seq_slots.data(), n_kv});
  }
  batch_.tokens = tokens_.data();
  batch_.positions = positions_.data();
  batch_.slots = slots_.data();
  batch_.seq_of_token = seq_of_token_.data();
  batch_.n_tokens = static_cast<int64_t>(tokens_.size());
  batch_.seqs = seqs_.data();
  batch_.n_seqs = static_cast<int64_t>(seqs_.size());
  batch_.logit_rows = logit_rows_.data();
  batch_.n_logit_rows = static_cast<int64_t>(logit_rows_.size());
}

}  // namespace frugal
