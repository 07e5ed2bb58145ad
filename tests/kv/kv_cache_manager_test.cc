// Tests for kv/kv_cache_manager: block tables, prefix caching, fork + copy-on-write, rollback.
// Tiny pools with block_size 4; every test asserts exact block ids (vLLM test_prefix_caching.py).
#include "kv/kv_cache_manager.h"

#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace frugal {
namespace {

using Ids = std::vector<BlockId>;
using Tokens = std::vector<int32_t>;
constexpr int32_t kBlockSize = 4;

KvCacheConfig config_with(int32_t num_blocks) {
  KvCacheConfig config;
  config.num_blocks = num_blocks;
  config.block_size_tokens = kBlockSize;
  return config;
}

Tokens concat(const Tokens& a, const Tokens& b) {
  Tokens out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// Two full blocks shared by the prompts below.
const Tokens kCommon = {1, 1, 1, 1, 2, 2, 2, 2};

// Runs a whole prefill: prefix lookup, slots, commit. Returns the number of cached tokens.
int32_t prefill(KvCacheManager& manager, SeqId seq, const Tokens& prompt, uint64_t extra_key = 0) {
  const CachedPrefix prefix = manager.find_cached_prefix(prompt, extra_key);
  const int32_t num_new_tokens = static_cast<int32_t>(prompt.size()) - prefix.num_cached_tokens;
  EXPECT_TRUE(manager.allocate_slots(seq, num_new_tokens, &prefix).has_value());
  manager.commit_tokens(seq, prompt);
  return prefix.num_cached_tokens;
}

TEST(KvCacheManagerTest, NewSequenceGetsBlocksInIdOrder) {
  KvCacheManager manager(config_with(10));
  auto allocation = manager.allocate_slots(1, 10);
  ASSERT_TRUE(allocation.has_value());
  EXPECT_TRUE(allocation->copy_ops.empty());
  EXPECT_EQ(manager.block_table(1), (Ids{0, 1, 2}));
  EXPECT_EQ(manager.num_tokens(1), 10);
  EXPECT_EQ(manager.num_free_blocks(), 7);
  EXPECT_EQ(manager.num_used_blocks(), 3);
  EXPECT_EQ(manager.num_total_blocks(), 10);
}

TEST(KvCacheManagerTest, DecodeAddsABlockOnlyAtABlockBoundary) {
  KvCacheManager manager(config_with(10));
  ASSERT_TRUE(manager.allocate_slots(1, 10).has_value());
  ASSERT_TRUE(manager.allocate_slots(1, 2).has_value());
  EXPECT_EQ(manager.block_table(1), (Ids{0, 1, 2}));
  ASSERT_TRUE(manager.allocate_slots(2, 1).has_value());  // another sequence takes block 3
  ASSERT_TRUE(manager.allocate_slots(1, 1).has_value());
  EXPECT_EQ(manager.block_table(1), (Ids{0, 1, 2, 4}));
  EXPECT_EQ(manager.num_tokens(1), 13);
  ASSERT_TRUE(manager.allocate_slots(1, 0).has_value());
  EXPECT_EQ(manager.block_table(1), (Ids{0, 1, 2, 4}));
}

TEST(KvCacheManagerTest, OutOfBlocksReturnsNulloptAndChangesNothing) {
  KvCacheManager manager(config_with(3));
  ASSERT_TRUE(manager.allocate_slots(1, 8).has_value());
  EXPECT_EQ(manager.allocate_slots(2, 8), std::nullopt);
  EXPECT_FALSE(manager.has_sequence(2));
  EXPECT_EQ(manager.allocate_slots(1, 5), std::nullopt);  // 13 tokens need 4 blocks
  EXPECT_EQ(manager.block_table(1), (Ids{0, 1}));
  EXPECT_EQ(manager.num_tokens(1), 8);
  EXPECT_EQ(manager.num_free_blocks(), 1);
  EXPECT_EQ(manager.pool().free_queue_order(), (Ids{2}));
  ASSERT_TRUE(manager.allocate_slots(1, 4).has_value());  // exactly the last block fits
  EXPECT_EQ(manager.block_table(1), (Ids{0, 1, 2}));
}

TEST(KvCacheManagerTest, FreeReleasesTailBlocksFirst) {
  KvCacheManager manager(config_with(6));
  ASSERT_TRUE(manager.allocate_slots(1, 12).has_value());
  manager.free(1);
  EXPECT_FALSE(manager.has_sequence(1));
  EXPECT_EQ(manager.pool().free_queue_order(), (Ids{3, 4, 5, 2, 1, 0}));
  manager.free(1);  // unknown sequence: no-op
  EXPECT_EQ(manager.num_free_blocks(), 6);
}

TEST(KvCacheManagerTest, TwoSequencesShareACachedTwoBlockPrefix) {
  KvCacheManager manager(config_with(10));
  const Tokens prompt_a = concat(kCommon, {3, 3, 3});
  const Tokens prompt_b = concat(kCommon, {4, 4});
  EXPECT_EQ(prefill(manager, 1, prompt_a), 0);
  EXPECT_EQ(manager.block_table(1), (Ids{0, 1, 2}));

  const CachedPrefix prefix = manager.find_cached_prefix(prompt_b);
  EXPECT_EQ(prefix.blocks, (Ids{0, 1}));
  EXPECT_EQ(prefix.num_cached_tokens, 8);
  ASSERT_TRUE(manager.allocate_slots(2, 2, &prefix).has_value());
  EXPECT_EQ(manager.block_table(2), (Ids{0, 1, 3}));
  EXPECT_EQ(manager.num_tokens(2), 10);
  EXPECT_EQ(manager.pool().ref_count(0), 2);
  EXPECT_EQ(manager.pool().ref_count(1), 2);
  EXPECT_EQ(manager.pool().ref_count(2), 1);
  EXPECT_EQ(manager.pool().ref_count(3), 1);

  const PrefixCacheStats& stats = manager.prefix_cache_stats();
  EXPECT_EQ(stats.num_queries, 2);
  EXPECT_EQ(stats.num_query_tokens, 21);
  EXPECT_EQ(stats.num_hit_tokens, 8);
  EXPECT_DOUBLE_EQ(stats.hit_rate(), 8.0 / 21.0);
  manager.reset_prefix_cache_stats();
  EXPECT_EQ(manager.prefix_cache_stats().num_queries, 0);
}

TEST(KvCacheManagerTest, PartialLastBlockIsNeverCached) {
  KvCacheManager manager(config_with(10));
  const Tokens prompt = concat(kCommon, {3, 3, 3});
  prefill(manager, 1, prompt);
  EXPECT_TRUE(manager.pool().cached_hash(0).has_value());
  EXPECT_TRUE(manager.pool().cached_hash(1).has_value());
  EXPECT_EQ(manager.pool().cached_hash(2), std::nullopt);
  EXPECT_EQ(manager.pool().num_cached_blocks(), 2);
  // Even with a longer prompt, the three tokens of block 2 are not served from the cache.
  EXPECT_EQ(manager.find_cached_prefix(concat(prompt, {3, 9, 9})).num_cached_tokens, 8);
}

TEST(KvCacheManagerTest, NeverCachesTheWholePrompt) {
  KvCacheManager manager(config_with(10));
  prefill(manager, 1, kCommon);  // exactly two full blocks, both cached
  ASSERT_EQ(manager.pool().num_cached_blocks(), 2);
  // The same 8-token prompt may hit at most 7 tokens, i.e. one block: its last token is recomputed.
  const CachedPrefix same = manager.find_cached_prefix(kCommon);
  EXPECT_EQ(same.blocks, (Ids{0}));
  EXPECT_EQ(same.num_cached_tokens, 4);
  EXPECT_EQ(manager.find_cached_prefix(concat(kCommon, {5})).num_cached_tokens, 8);
  EXPECT_EQ(manager.find_cached_prefix(Tokens{}).num_cached_tokens, 0);
}

TEST(KvCacheManagerTest, RecomputedDuplicateBlockIsNotCachedTwice) {
  KvCacheManager manager(config_with(10));
  prefill(manager, 1, kCommon);
  const CachedPrefix prefix = manager.find_cached_prefix(kCommon);
  ASSERT_TRUE(manager.allocate_slots(2, 4, &prefix).has_value());
  EXPECT_EQ(manager.block_table(2), (Ids{0, 2}));  // block 1's content recomputed into block 2
  manager.commit_tokens(2, kCommon);
  EXPECT_EQ(manager.pool().cached_hash(2), std::nullopt);
  EXPECT_EQ(manager.find_cached_prefix(concat(kCommon, {7})).blocks, (Ids{0, 1}));
}

TEST(KvCacheManagerTest, FreedCachedBlocksAreRevivedByALaterSequence) {
  KvCacheManager manager(config_with(10));
  prefill(manager, 1, concat(kCommon, {3, 3, 3}));
  manager.free(1);
  ASSERT_EQ(manager.pool().free_queue_order(), (Ids{3, 4, 5, 6, 7, 8, 9, 2, 1, 0}));
  EXPECT_EQ(prefill(manager, 2, concat(kCommon, {5, 5, 5})), 8);
  EXPECT_EQ(manager.block_table(2), (Ids{0, 1, 3}));
  EXPECT_EQ(manager.pool().ref_count(0), 1);
  EXPECT_EQ(manager.pool().ref_count(1), 1);
  EXPECT_EQ(manager.pool().free_queue_order(), (Ids{4, 5, 6, 7, 8, 9, 2}));
}

TEST(KvCacheManagerTest, EvictsTheSequenceTailBeforeItsPrefix) {
  KvCacheManager manager(config_with(4));
  const Tokens prompt = concat(kCommon, {3, 3, 3, 3});
  prefill(manager, 1, prompt);  // blocks 0, 1, 2, all full and cached
  ASSERT_EQ(manager.pool().num_cached_blocks(), 3);
  manager.free(1);
  ASSERT_EQ(manager.pool().free_queue_order(), (Ids{3, 2, 1, 0}));
  ASSERT_TRUE(manager.allocate_slots(2, 8).has_value());  // unrelated: takes 3, then evicts 2
  EXPECT_EQ(manager.block_table(2), (Ids{3, 2}));
  EXPECT_EQ(manager.pool().cached_hash(2), std::nullopt);
  EXPECT_EQ(manager.pool().num_evictions(), 1);
  EXPECT_EQ(manager.find_cached_prefix(concat(prompt, {9})).blocks, (Ids{0, 1}));
}

TEST(KvCacheManagerTest, RevivingFreePrefixBlocksCountsAgainstCapacity) {
  KvCacheManager manager(config_with(4));
  prefill(manager, 1, kCommon);  // blocks 0, 1
  manager.free(1);
  ASSERT_TRUE(manager.allocate_slots(3, 8).has_value());  // takes the empty blocks 2, 3
  ASSERT_EQ(manager.pool().free_queue_order(), (Ids{1, 0}));
  // Prompt of 12 tokens: 8 cached (2 free blocks to revive) + 1 new block = 3 > 2 free.
  const Tokens prompt = concat(kCommon, {6, 6, 6, 6});
  const CachedPrefix prefix = manager.find_cached_prefix(prompt);
  ASSERT_EQ(prefix.blocks, (Ids{0, 1}));
  EXPECT_EQ(manager.allocate_slots(2, 4, &prefix), std::nullopt);
  EXPECT_FALSE(manager.has_sequence(2));
  EXPECT_EQ(manager.pool().ref_count(0), 0);  // the failed allocation did not touch the prefix
  EXPECT_EQ(manager.pool().free_queue_order(), (Ids{1, 0}));
  // With one more block the same request fits and revives exactly the prefix blocks.
  manager.free(3);
  const CachedPrefix retry = manager.find_cached_prefix(prompt);
  ASSERT_TRUE(manager.allocate_slots(2, 4, &retry).has_value());
  EXPECT_EQ(manager.block_table(2), (Ids{0, 1, 3}));
}

TEST(KvCacheManagerTest, SameBlockTokensUnderADifferentParentMiss) {
  KvCacheManager manager(config_with(10));
  prefill(manager, 1, Tokens{1, 1, 1, 1, 2, 2, 2, 2, 0});
  // Second block equal ({2,2,2,2}) but the first differs: the chain breaks at block 0.
  EXPECT_EQ(manager.find_cached_prefix(Tokens{9, 9, 9, 9, 2, 2, 2, 2, 0}).num_cached_tokens, 0);
  // First block equal, second differs: only the first hits.
  EXPECT_EQ(manager.find_cached_prefix(Tokens{1, 1, 1, 1, 2, 2, 2, 3, 0}).blocks, (Ids{0}));
}

TEST(KvCacheManagerTest, ExtraKeySeparatesCaches) {
  KvCacheManager manager(config_with(10));
  const Tokens prompt = concat(kCommon, {3});
  prefill(manager, 1, prompt, /*extra_key=*/7);
  EXPECT_EQ(manager.find_cached_prefix(prompt, 0).num_cached_tokens, 0);
  EXPECT_EQ(manager.find_cached_prefix(prompt, 8).num_cached_tokens, 0);
  EXPECT_EQ(manager.find_cached_prefix(prompt, 7).blocks, (Ids{0, 1}));
}

BlockHash constant_hash(const BlockKey&) { return BlockHash{5, 5}; }

TEST(KvCacheManagerTest, ForcedHashCollisionsNeverGiveAFalseHit) {
  KvCacheConfig config = config_with(10);
  config.hash_fn = constant_hash;  // every block collides
  KvCacheManager manager(config);
  prefill(manager, 1, concat(kCommon, {3}));
  // Block 0 owns the only hash; block 1 collided with it and stayed uncached.
  EXPECT_TRUE(manager.pool().cached_hash(0).has_value());
  EXPECT_EQ(manager.pool().cached_hash(1), std::nullopt);
  // Same hash, other tokens: a miss, not block 0.
  EXPECT_EQ(manager.find_cached_prefix(Tokens{2, 2, 2, 2, 1, 1, 1, 1, 3}).num_cached_tokens, 0);
  // The true first block still hits; the second finds block 0's entry, whose key differs.
  EXPECT_EQ(manager.find_cached_prefix(concat(kCommon, {3})).blocks, (Ids{0}));
}

TEST(KvCacheManagerTest, ForkSharesBlocksAndCopiesTheLastPartialBlockOnWrite) {
  KvCacheManager manager(config_with(10));
  ASSERT_TRUE(manager.allocate_slots(1, 6).has_value());
  manager.fork(1, 2);
  EXPECT_EQ(manager.block_table(2), (Ids{0, 1}));
  EXPECT_EQ(manager.num_tokens(2), 6);
  EXPECT_EQ(manager.pool().ref_count(0), 2);
  EXPECT_EQ(manager.pool().ref_count(1), 2);

  auto child_step = manager.allocate_slots(2, 1);
  ASSERT_TRUE(child_step.has_value());
  EXPECT_EQ(child_step->copy_ops, (std::vector<CopyOp>{{1, 2}}));
  EXPECT_EQ(manager.block_table(2), (Ids{0, 2}));
  EXPECT_EQ(manager.pool().ref_count(0), 2);
  EXPECT_EQ(manager.pool().ref_count(1), 1);
  EXPECT_EQ(manager.pool().ref_count(2), 1);

  auto parent_step = manager.allocate_slots(1, 1);  // block 1 is now the parent's alone
  ASSERT_TRUE(parent_step.has_value());
  EXPECT_TRUE(parent_step->copy_ops.empty());
  EXPECT_EQ(manager.block_table(1), (Ids{0, 1}));
}

TEST(KvCacheManagerTest, ForkAtABlockBoundaryNeedsNoCopy) {
  KvCacheManager manager(config_with(10));
  ASSERT_TRUE(manager.allocate_slots(1, 8).has_value());
  manager.fork(1, 2);
  auto step = manager.allocate_slots(2, 3);
  ASSERT_TRUE(step.has_value());
  EXPECT_TRUE(step->copy_ops.empty());
  EXPECT_EQ(manager.block_table(2), (Ids{0, 1, 2}));
  EXPECT_EQ(manager.block_table(1), (Ids{0, 1}));
}

TEST(KvCacheManagerTest, CopyOnWriteNeedsAFreeBlock) {
  KvCacheManager manager(config_with(2));
  ASSERT_TRUE(manager.allocate_slots(1, 6).has_value());
  manager.fork(1, 2);
  EXPECT_EQ(manager.allocate_slots(2, 1), std::nullopt);
  EXPECT_EQ(manager.block_table(2), (Ids{0, 1}));
  EXPECT_EQ(manager.num_tokens(2), 6);
  EXPECT_EQ(manager.pool().ref_count(1), 2);
  manager.free(1);  // the parent finishes: block 1 is the child's alone, written in place
  auto step = manager.allocate_slots(2, 1);
  ASSERT_TRUE(step.has_value());
  EXPECT_TRUE(step->copy_ops.empty());
  EXPECT_EQ(manager.block_table(2), (Ids{0, 1}));
}

TEST(KvCacheManagerTest, TruncateReleasesTheBlocksPastTheNewLength) {
  KvCacheManager manager(config_with(10));
  ASSERT_TRUE(manager.allocate_slots(1, 14).has_value());
  ASSERT_EQ(manager.block_table(1), (Ids{0, 1, 2, 3}));
  manager.truncate(1, 5);
  EXPECT_EQ(manager.block_table(1), (Ids{0, 1}));
  EXPECT_EQ(manager.num_tokens(1), 5);
  EXPECT_EQ(manager.pool().free_queue_order(), (Ids{4, 5, 6, 7, 8, 9, 3, 2}));
  manager.truncate(1, 4);
  EXPECT_EQ(manager.block_table(1), (Ids{0}));
  manager.truncate(1, 4);  // no-op
  EXPECT_EQ(manager.block_table(1), (Ids{0}));
  ASSERT_TRUE(manager.allocate_slots(1, 1).has_value());
  EXPECT_EQ(manager.block_table(1), (Ids{0, 4}));
}

TEST(KvCacheManagerTest, WritingIntoATruncatedCachedBlockUncachesItFirst) {
  KvCacheManager manager(config_with(10));
  prefill(manager, 1, kCommon);  // blocks 0, 1 cached
  manager.truncate(1, 6);        // block 1 is partial again, its content still intact
  EXPECT_TRUE(manager.pool().cached_hash(1).has_value());
  auto step = manager.allocate_slots(1, 2);
  ASSERT_TRUE(step.has_value());
  EXPECT_TRUE(step->copy_ops.empty());
  EXPECT_EQ(manager.pool().cached_hash(1), std::nullopt);  // overwritten: no stale hits
  EXPECT_EQ(manager.find_cached_prefix(concat(kCommon, {0})).blocks, (Ids{0}));
  const Tokens rewritten = {1, 1, 1, 1, 2, 2, 8, 8};
  manager.commit_tokens(1, rewritten);
  EXPECT_EQ(manager.find_cached_prefix(concat(rewritten, {0})).blocks, (Ids{0, 1}));
}

TEST(KvCacheManagerTest, TruncatedSharedCachedBlockIsCopiedNotOverwritten) {
  KvCacheManager manager(config_with(10));
  prefill(manager, 1, kCommon);
  const CachedPrefix prefix = manager.find_cached_prefix(concat(kCommon, {4}));
  ASSERT_TRUE(manager.allocate_slots(2, 1, &prefix).has_value());  // seq 2 shares blocks 0, 1
  manager.truncate(1, 7);
  auto step = manager.allocate_slots(1, 1);
  ASSERT_TRUE(step.has_value());
  EXPECT_EQ(step->copy_ops, (std::vector<CopyOp>{{1, 3}}));
  EXPECT_EQ(manager.block_table(1), (Ids{0, 3}));
  EXPECT_TRUE(manager.pool().cached_hash(1).has_value());  // seq 2's block keeps its content
}

TEST(KvCacheManagerTest, DisabledPrefixCachingNeverHits) {
  KvCacheConfig config = config_with(10);
  config.enable_prefix_caching = false;
  KvCacheManager manager(config);
  EXPECT_EQ(prefill(manager, 1, concat(kCommon, {3})), 0);
  EXPECT_EQ(manager.pool().num_cached_blocks(), 0);
  EXPECT_EQ(prefill(manager, 2, concat(kCommon, {3})), 0);
  EXPECT_EQ(manager.block_table(2), (Ids{3, 4, 5}));
}

TEST(KvCacheManagerTest, CommitIsIncrementalAndChainsHashes) {
  KvCacheManager manager(config_with(10));
  const Tokens tokens = concat(kCommon, {3, 3, 3, 3});
  ASSERT_TRUE(manager.allocate_slots(1, 12).has_value());
  manager.commit_tokens(1, std::span<const int32_t>(tokens).first(6));  // chunked prefill, step 1
  EXPECT_EQ(manager.pool().num_cached_blocks(), 1);
  manager.commit_tokens(1, tokens);
  EXPECT_EQ(manager.pool().num_cached_blocks(), 3);
  const Tokens block0(tokens.begin(), tokens.begin() + 4);
  const Tokens block1(tokens.begin() + 4, tokens.begin() + 8);
  const BlockHash hash0 = hash_block(BlockKey{kRootBlockHash, 0, block0});
  const BlockHash hash1 = hash_block(BlockKey{hash0, 0, block1});
  EXPECT_EQ(manager.pool().cached_hash(0), hash0);
  EXPECT_EQ(manager.pool().cached_hash(1), hash1);
}

TEST(KvCacheManagerTest, SlotIndexMapsPositionsThroughTheBlockTable) {
  KvCacheManager manager(config_with(10));
  ASSERT_TRUE(manager.allocate_slots(1, 4).has_value());  // block 0
  ASSERT_TRUE(manager.allocate_slots(2, 4).has_value());  // block 1
  ASSERT_TRUE(manager.allocate_slots(1, 3).has_value());  // block 2
  EXPECT_EQ(manager.slot_index(1, 0), 0);
  EXPECT_EQ(manager.slot_index(1, 3), 3);
  EXPECT_EQ(manager.slot_index(1, 4), 2 * kBlockSize);
  EXPECT_EQ(manager.slot_index(1, 6), 2 * kBlockSize + 2);
}

TEST(KvCacheManagerTest, BlocksForBudget) {
  // 1 MiB at 1 KiB per token and 16-token blocks: 16 KiB per block -> 64 blocks.
  EXPECT_EQ(KvCacheManager::blocks_for_budget(1 << 20, 1024, 16), 64);
  EXPECT_EQ(KvCacheManager::blocks_for_budget((1 << 20) - 1, 1024, 16), 63);  // rounds down
  EXPECT_EQ(KvCacheManager::blocks_for_budget(100000, 1000, 16), 6);
  EXPECT_EQ(KvCacheManager::blocks_for_budget(15999, 1000, 16), 0);
  EXPECT_EQ(KvCacheManager::blocks_for_budget(0, 1000, 16), 0);
  EXPECT_EQ(KvCacheManager::blocks_for_budget(-5, 1000, 16), 0);
  EXPECT_EQ(KvCacheManager::blocks_for_budget(std::numeric_limits<int64_t>::max(), 1, 1),
            std::numeric_limits<int32_t>::max());
}

TEST(KvCacheManagerDeathTest, StalePrefixIsAProgrammerError) {
  KvCacheManager manager(config_with(3));
  prefill(manager, 1, concat(kCommon, {3}));
  manager.free(1);
  const CachedPrefix prefix = manager.find_cached_prefix(concat(kCommon, {3}));
  ASSERT_EQ(prefix.blocks, (Ids{0, 1}));
  ASSERT_TRUE(manager.allocate_slots(2, 12).has_value());  // evicts blocks 2, 1, 0
  EXPECT_DEATH((void)manager.allocate_slots(3, 1, &prefix), "stale");
}

}  // namespace
}  // namespace frugal
