// StepBatch's layout of a Medusa candidate tree: every node attends to exactly the committed
// prefix, its ancestors and itself (the tree attention mask) at position root + depth, writes its
// K/V to block-table position root + 1 + node, and the logit rows come root first, then the nodes
// in order. Chains of first children share one attention sequence (the first extends the root's).
#include "engine/step_batch.h"

#include <gtest/gtest.h>

#include <memory>

#include "common/test_data.h"
#include "gguf/gguf_reader.h"

namespace frugal {
namespace {

struct Layout {
  int64_t n_seqs = 0;
};

// Builds the step for one decoding sequence with `parents` as its tree and checks every node.
Layout check_tree(const std::vector<int32_t>& parents) {
  auto file = GgufFile::open(testing::data_path("models/tiny-f32.gguf"));
  EXPECT_TRUE(file.has_value());
  const Tokenizer tokenizer = std::move(*Tokenizer::from_gguf(*file));
  constexpr int32_t kBlock = 4, kCommitted = 10;  // root at position 9
  KvCacheManager kv(KvCacheConfig{.num_blocks = 16, .block_size_tokens = kBlock, .enable_prefix_caching = false});
  EngineRequest request;
  request.prompt = {1, 2, 3, 4, 5, 6, 7};
  Sequence seq(1, 1, request, std::make_shared<RequestStream>(1), tokenizer, 512);
  seq.tokens = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  seq.num_computed_tokens = kCommitted - 1;
  const int32_t n = static_cast<int32_t>(parents.size());
  for (int32_t i = 0; i < n; ++i) seq.spec_tokens.push_back(100 + i);
  seq.spec_parents = parents;
  EXPECT_TRUE(kv.allocate_slots(seq.id, kCommitted + n).has_value());
  const auto& table = kv.block_table(seq.id);
  auto slot = [&](int32_t pos) { return table[static_cast<size_t>(pos / kBlock)] * kBlock + pos % kBlock; };
  SchedulerOutput out;
  out.chunks.push_back(ScheduledChunk{.seq = &seq, .num_new_tokens = 1 + n, .wants_logits = true});
  StepBatch batch;
  batch.build(out, kv);
  const ForwardBatch b = batch.view();
  EXPECT_EQ(b.n_tokens, 1 + n);
  EXPECT_EQ(b.n_logit_rows, 1 + n);
  if (b.n_logit_rows != 1 + n) return {};
  const int32_t root = b.logit_rows[0];
  EXPECT_EQ(b.tokens[root], 10);
  EXPECT_EQ(b.positions[root], kCommitted - 1);
  EXPECT_EQ(b.slots[root], slot(kCommitted - 1));
  for (int32_t i = 0; i < n; ++i) {
    const int32_t t = b.logit_rows[1 + i];
    std::vector<int32_t> expected;  // the prefix, the ancestors (root's child first), the node
    for (int32_t p = 0; p < kCommitted; ++p) expected.push_back(slot(p));
    std::vector<int32_t> path;
    for (int32_t a = i; a >= 0; a = parents[static_cast<size_t>(a)]) path.insert(path.begin(), slot(kCommitted + a));
    expected.insert(expected.end(), path.begin(), path.end());
    EXPECT_EQ(b.tokens[t], 100 + i) << "node " << i;
    EXPECT_EQ(b.positions[t], kCommitted - 1 + static_cast<int32_t>(path.size())) << "node " << i;
    EXPECT_EQ(b.slots[t], slot(kCommitted + i)) << "node " << i;
    const AttentionSeq& s = b.seqs[b.seq_of_token[t]];
    EXPECT_GT(s.n_kv, b.positions[t]) << "node " << i;
    if (s.n_kv <= b.positions[t]) continue;
    const std::vector<int32_t> visible(s.slots, s.slots + b.positions[t] + 1);
    EXPECT_EQ(visible, expected) << "node " << i;
  }
  return Layout{.n_seqs = b.n_seqs};
}

TEST(StepBatchTree, EveryNodeSeesThePrefixItsAncestorsAndItself) {
  // Chains: 0 -> 2 -> 5 (the root's), 1 -> 4 -> 7, 3, 6.
  EXPECT_EQ(check_tree({-1, -1, 0, 0, 1, 2, -1, 4}).n_seqs, 4);
}

TEST(StepBatchTree, AChainIsOneSequence) {
  EXPECT_EQ(check_tree({-1, 0, 1, 2}).n_seqs, 1);
  EXPECT_EQ(check_tree({-1}).n_seqs, 1);
  EXPECT_EQ(check_tree({-1, -1, -1}).n_seqs, 3);  // siblings only
}

}  // namespace
}  // namespace frugal
