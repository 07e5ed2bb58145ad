// BatchBuffers: the owned arrays behind a model ForwardBatch (engine layer), shared by the target
// step (StepBatch) and the draft passes (DraftRunner): token ids, positions, the K/V slot each new
// token writes, each sequence's slot table built from its block table, and the logit rows.
#pragma once

#include <cstdint>
#include <vector>

#include "kv/kv_cache_manager.h"
#include "model/model.h"

namespace frugal {

struct BatchBuffers {
  std::vector<int32_t> tokens, positions, slots, seq_of_token, logit_rows;  // [n_tokens] / [n_logit_rows]
  std::vector<std::vector<int32_t>> seq_slots;  // [n_seqs][n_kv]: reused across steps
  std::vector<AttentionSeq> seqs;               // [n_seqs]

  void clear() {
    tokens.clear();
    positions.clear();
    slots.clear();
    seq_of_token.clear();
    logit_rows.clear();
    seqs.clear();
  }

  // Sequence seq_idx's slot table for positions [0, n_kv): slot = block * block_size + pos % block_size.
  // Also appends its AttentionSeq. The returned table stays valid until the next call for seq_idx.
  const std::vector<int32_t>& add_seq(size_t seq_idx, const std::vector<BlockId>& table, int32_t block_size,
                                      int32_t n_kv) {
    if (seq_slots.size() <= seq_idx) seq_slots.resize(seq_idx + 1);
    std::vector<int32_t>& out = seq_slots[seq_idx];
    out.resize(static_cast<size_t>(n_kv));
    for (int32_t pos = 0; pos < n_kv; ++pos) {
      out[static_cast<size_t>(pos)] = table[static_cast<size_t>(pos / block_size)] * block_size + pos % block_size;
    }
    seqs.push_back(AttentionSeq{out.data(), n_kv});
    return out;
  }

  // A tree node's own history (Medusa verification): the first n_prefix slots of `base`, then
  // `path` (its ancestors' slots and its own, root's child first). Appends its AttentionSeq; the
  // node's token goes at position n_prefix + path.size() - 1 with add_token_at.
  void add_tree_seq(size_t seq_idx, const std::vector<int32_t>& base, int32_t n_prefix, const std::vector<int32_t>& path) {
    if (seq_slots.size() <= seq_idx) seq_slots.resize(seq_idx + 1);
    std::vector<int32_t>& out = seq_slots[seq_idx];
    out.assign(base.begin(), base.begin() + n_prefix);
    out.insert(out.end(), path.begin(), path.end());
    seqs.push_back(AttentionSeq{out.data(), static_cast<int64_t>(out.size())});
  }

  // One new token of sequence seq_idx at `pos`, writing K/V row `slot`.
  void add_token_at(size_t seq_idx, int32_t token, int32_t pos, int32_t slot) {
    tokens.push_back(token);
    positions.push_back(pos);
    slots.push_back(slot);
    seq_of_token.push_back(static_cast<int32_t>(seq_idx));
  }

  // One new token of sequence seq_idx at `pos` (its slot from the table add_seq built).
  void add_token(size_t seq_idx, int32_t token, int32_t pos) {
    tokens.push_back(token);
    positions.push_back(pos);
    slots.push_back(seq_slots[seq_idx][static_cast<size_t>(pos)]);
    seq_of_token.push_back(static_cast<int32_t>(seq_idx));
  }

  ForwardBatch view() const {
    ForwardBatch batch;
    batch.tokens = tokens.data();
    batch.positions = positions.data();
    batch.slots = slots.data();
    batch.seq_of_token = seq_of_token.data();
    batch.n_tokens = static_cast<int64_t>(tokens.size());
    batch.seqs = seqs.data();
    batch.n_seqs = static_cast<int64_t>(seqs.size());
    batch.logit_rows = logit_rows.data();
    batch.n_logit_rows = static_cast<int64_t>(logit_rows.size());
    return batch;
  }
};

}  // namespace frugal
