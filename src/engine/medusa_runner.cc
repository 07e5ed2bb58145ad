#include "engine/medusa_runner.h"

#include <algorithm>

namespace frugal {

MedusaRunner::MedusaRunner(std::shared_ptr<const MedusaHeads> heads, int32_t tree_nodes)
    : heads_(std::move(heads)),
      tree_(heads_->tree_parent().empty()
                ? build_medusa_tree(heads_->accuracy(), heads_->num_heads(), heads_->top_ranks(), tree_nodes)
                : measured_medusa_tree(heads_->tree_parent(), heads_->tree_rank(), heads_->tree_chance(), tree_nodes)),
      heads_used_(std::max(1, medusa_tree_depth(tree_))) {}

void MedusaRunner::propose(const std::vector<ScheduledChunk*>& chunks, const std::vector<int32_t>& node_caps,
                           const std::vector<int32_t>& depth_caps, KvCacheManager& kv, KvStore& target_kv) {
  const int64_t block_size = kv.block_size_tokens();
  const int32_t ranks = tree_.ranks_needed;
  for (size_t i = 0; i < chunks.size(); ++i) {
    Sequence& seq = *chunks[i]->seq;
    seq.medusa_wanted = true;
    seq.spec_tokens.clear();
    seq.spec_parents.clear();
    if (seq.medusa_for_length != static_cast<int32_t>(seq.tokens.size())) continue;  // stale: this step refreshes them
    const int32_t n = std::min(node_caps[i], tree_.nodes_within_depth(depth_caps[i]));
    if (n <= 0) continue;
    auto allocation = kv.allocate_slots(seq.id, n);  // no preemption for a guess
    if (!allocation) continue;
    for (const CopyOp& op : allocation->copy_ops) {
      target_kv.copy_rows(static_cast<int64_t>(op.src) * block_size, static_cast<int64_t>(op.dst) * block_size, block_size);
    }
    for (int32_t node = 0; node < n; ++node) {
      const int32_t head = tree_.depth[static_cast<size_t>(node)] - 1;
      seq.spec_tokens.push_back(seq.medusa_candidates[static_cast<size_t>(head * ranks + tree_.rank[static_cast<size_t>(node)])]);
      seq.spec_parents.push_back(tree_.parent[static_cast<size_t>(node)]);
    }
  }
}

void MedusaRunner::update(const std::vector<Sequence*>& seqs, const std::vector<int64_t>& rows, const float* hidden,
                          ThreadPool& pool) {
  if (seqs.empty()) return;
  const int64_t n_embd = heads_->n_embd();
  hidden_rows_.resize(seqs.size() * static_cast<size_t>(n_embd));
  for (size_t i = 0; i < seqs.size(); ++i) {
    std::copy_n(hidden + rows[i] * n_embd, n_embd, hidden_rows_.begin() + static_cast<int64_t>(i) * n_embd);
  }
  const int32_t ranks = tree_.ranks_needed;
  heads_->top_tokens(hidden_rows_.data(), static_cast<int64_t>(seqs.size()), heads_used_, ranks, pool, scratch_, top_);
  const size_t per_seq = static_cast<size_t>(heads_used_ * ranks);
  for (size_t i = 0; i < seqs.size(); ++i) {
    Sequence& seq = *seqs[i];
    seq.medusa_candidates.assign(top_.begin() + static_cast<int64_t>(i * per_seq), top_.begin() + static_cast<int64_t>((i + 1) * per_seq));
    seq.medusa_for_length = static_cast<int32_t>(seq.tokens.size());
  }
}

void MedusaRunner::compact(SeqId seq, int32_t root_pos, const std::vector<int32_t>& path, const KvCacheManager& kv,
                           KvStore& store) {
  const std::vector<BlockId>& table = kv.block_table(seq);
  const int32_t bs = kv.block_size_tokens();
  auto slot = [&](int32_t pos) { return static_cast<int64_t>(table[static_cast<size_t>(pos / bs)]) * bs + pos % bs; };
  // Node path[j] (depth j + 1) sits at root_pos + 1 + path[j] >= root_pos + 1 + j; increasing j never
  // overwrites a later source (path[j'] > j for j' > j).
  for (size_t j = 0; j < path.size(); ++j) {
    const int32_t from = root_pos + 1 + path[j], to = root_pos + 1 + static_cast<int32_t>(j);
    if (from != to) store.copy_rows(slot(from), slot(to), 1);
  }
}

}  // namespace frugal
