// Tests for kv/block_pool: exact ids, ref counts, free-queue (eviction) order, cache hits.
#include "kv/block_pool.h"

#include <vector>

#include <gtest/gtest.h>

namespace frugal {
namespace {

using Ids = std::vector<BlockId>;
constexpr int32_t kBlockSize = 4;

// A block key over caller-owned tokens (the span must not outlive them).
BlockKey key_for(const std::vector<int32_t>& tokens, BlockHash parent = kRootBlockHash, uint64_t extra_key = 0) {
  return BlockKey{parent, extra_key, tokens};
}

TEST(BlockPoolTest, AllocatesFromTheHeadInIdOrder) {
  BlockPool pool(5, kBlockSize);
  EXPECT_EQ(pool.allocate(2), (Ids{0, 1}));
  EXPECT_EQ(pool.allocate(2), (Ids{2, 3}));
  EXPECT_EQ(pool.allocate(0), Ids{});
  EXPECT_EQ(pool.ref_count(0), 1);
  EXPECT_EQ(pool.ref_count(3), 1);
  EXPECT_EQ(pool.ref_count(4), 0);
  EXPECT_EQ(pool.free_queue_order(), (Ids{4}));
  EXPECT_EQ(pool.num_free_blocks(), 1);
  EXPECT_EQ(pool.num_used_blocks(), 4);
}

TEST(BlockPoolTest, AllocatingMoreThanFreeReturnsNulloptAndChangesNothing) {
  BlockPool pool(5, kBlockSize);
  ASSERT_EQ(pool.allocate(3), (Ids{0, 1, 2}));
  EXPECT_EQ(pool.allocate(3), std::nullopt);
  EXPECT_EQ(pool.free_queue_order(), (Ids{3, 4}));
  EXPECT_EQ(pool.ref_count(3), 0);
  EXPECT_EQ(pool.ref_count(4), 0);
  EXPECT_EQ(pool.allocate(2), (Ids{3, 4}));
  EXPECT_EQ(pool.allocate(1), std::nullopt);
}

TEST(BlockPoolTest, ReleaseAppendsTailBlocksFirst) {
  BlockPool pool(5, kBlockSize);
  const Ids blocks = *pool.allocate(3);
  pool.release(blocks);
  EXPECT_EQ(pool.free_queue_order(), (Ids{3, 4, 2, 1, 0}));
  EXPECT_EQ(pool.allocate(3), (Ids{3, 4, 2}));
}

TEST(BlockPoolTest, SharedBlockStaysInUseUntilLastRelease) {
  BlockPool pool(3, kBlockSize);
  const Ids blocks = *pool.allocate(2);
  const Ids shared = {1};
  pool.touch(shared);
  EXPECT_EQ(pool.ref_count(1), 2);
  pool.release(blocks);
  EXPECT_EQ(pool.ref_count(0), 0);
  EXPECT_EQ(pool.ref_count(1), 1);
  EXPECT_EQ(pool.free_queue_order(), (Ids{2, 0}));
  pool.release(shared);
  EXPECT_EQ(pool.free_queue_order(), (Ids{2, 0, 1}));
}

TEST(BlockPoolTest, TouchingAFreeCachedBlockRemovesItFromTheFreeQueue) {
  BlockPool pool(5, kBlockSize);
  const Ids blocks = *pool.allocate(3);
  const std::vector<int32_t> tokens = {5, 6, 7, 8};
  const BlockHash hash = hash_block(key_for(tokens));
  ASSERT_TRUE(pool.cache_full_block(1, hash, key_for(tokens)));
  pool.release(blocks);
  ASSERT_EQ(pool.free_queue_order(), (Ids{3, 4, 2, 1, 0}));
  ASSERT_EQ(pool.lookup(hash, key_for(tokens)), 1);  // cached blocks survive being freed
  const Ids hit = {1};
  pool.touch(hit);
  EXPECT_EQ(pool.ref_count(1), 1);
  EXPECT_FALSE(pool.is_free(1));
  EXPECT_EQ(pool.free_queue_order(), (Ids{3, 4, 2, 0}));
  EXPECT_EQ(pool.num_free_blocks(), 4);
  EXPECT_EQ(pool.cached_hash(1), hash);
}

TEST(BlockPoolTest, EvictsTheLeastRecentlyFreedCachedBlockFirst) {
  BlockPool pool(3, kBlockSize);
  const Ids blocks = *pool.allocate(3);
  const std::vector<std::vector<int32_t>> tokens = {{1, 1, 1, 1}, {2, 2, 2, 2}, {3, 3, 3, 3}};
  std::vector<BlockHash> hashes;
  for (BlockId block : blocks) {
    hashes.push_back(hash_block(key_for(tokens[static_cast<size_t>(block)])));
    ASSERT_TRUE(pool.cache_full_block(block, hashes.back(), key_for(tokens[static_cast<size_t>(block)])));
  }
  // Freed one by one: 2 first, then 0, then 1.
  for (BlockId block : {2, 0, 1}) pool.release(Ids{block});
  ASSERT_EQ(pool.free_queue_order(), (Ids{2, 0, 1}));
  EXPECT_EQ(pool.num_cached_blocks(), 3);

  EXPECT_EQ(pool.allocate(1), (Ids{2}));
  EXPECT_EQ(pool.num_evictions(), 1);
  EXPECT_EQ(pool.cached_hash(2), std::nullopt);
  EXPECT_EQ(pool.lookup(hashes[2], key_for(tokens[2])), std::nullopt);
  EXPECT_EQ(pool.lookup(hashes[0], key_for(tokens[0])), 0);
  EXPECT_EQ(pool.lookup(hashes[1], key_for(tokens[1])), 1);
  EXPECT_EQ(pool.num_cached_blocks(), 2);
}

TEST(BlockPoolTest, EqualHashWithDifferentKeyIsAMiss) {
  BlockPool pool(2, kBlockSize);
  ASSERT_TRUE(pool.allocate(1).has_value());
  const std::vector<int32_t> tokens = {1, 2, 3, 4};
  const std::vector<int32_t> other_tokens = {1, 2, 3, 5};
  const BlockHash forced_hash{42, 42};  // the same hash for every key: a forced collision
  ASSERT_TRUE(pool.cache_full_block(0, forced_hash, key_for(tokens, kRootBlockHash, 9)));
  EXPECT_EQ(pool.lookup(forced_hash, key_for(tokens, kRootBlockHash, 9)), 0);
  EXPECT_EQ(pool.lookup(forced_hash, key_for(other_tokens, kRootBlockHash, 9)), std::nullopt);
  EXPECT_EQ(pool.lookup(forced_hash, key_for(tokens, BlockHash{1, 2}, 9)), std::nullopt);
  EXPECT_EQ(pool.lookup(forced_hash, key_for(tokens, kRootBlockHash, 8)), std::nullopt);
  EXPECT_EQ(pool.lookup(BlockHash{42, 43}, key_for(tokens, kRootBlockHash, 9)), std::nullopt);
}

TEST(BlockPoolTest, DuplicateContentKeepsTheFirstBlockCanonical) {
  BlockPool pool(2, kBlockSize);
  ASSERT_TRUE(pool.allocate(2).has_value());
  const std::vector<int32_t> tokens = {4, 3, 2, 1};
  const BlockHash hash = hash_block(key_for(tokens));
  EXPECT_TRUE(pool.cache_full_block(0, hash, key_for(tokens)));
  EXPECT_FALSE(pool.cache_full_block(1, hash, key_for(tokens)));
  EXPECT_EQ(pool.cached_hash(1), std::nullopt);
  EXPECT_EQ(pool.lookup(hash, key_for(tokens)), 0);
  EXPECT_EQ(pool.num_cached_blocks(), 1);
}

TEST(BlockPoolTest, UncacheDropsTheHash) {
  BlockPool pool(1, kBlockSize);
  ASSERT_TRUE(pool.allocate(1).has_value());
  const std::vector<int32_t> tokens = {4, 3, 2, 1};
  const BlockHash hash = hash_block(key_for(tokens));
  ASSERT_TRUE(pool.cache_full_block(0, hash, key_for(tokens)));
  pool.uncache(0);
  EXPECT_EQ(pool.lookup(hash, key_for(tokens)), std::nullopt);
  EXPECT_EQ(pool.num_cached_blocks(), 0);
  EXPECT_TRUE(pool.cache_full_block(0, hash, key_for(tokens)));  // can be cached again
}

TEST(BlockPoolDeathTest, ReleasingAFreeBlockIsAProgrammerError) {
  BlockPool pool(2, kBlockSize);
  EXPECT_DEATH(pool.release(Ids{0}), "already free");
}

}  // namespace
}  // namespace frugal
