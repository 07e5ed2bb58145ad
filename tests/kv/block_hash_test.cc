// Tests for kv/block_hash: reference mix values, sensitivity to every input, chaining, spread.
#include "kv/block_hash.h"

#include <bit>
#include <cstdint>
#include <random>
#include <unordered_set>
#include <vector>

#include <gtest/gtest.h>

namespace frugal {
namespace {

BlockHash hash_of(BlockHash parent, uint64_t extra_key, const std::vector<int32_t>& tokens) {
  return hash_block(BlockKey{parent, extra_key, tokens});
}

TEST(BlockHashTest, SplitmixMixMatchesPublishedReferenceOutputs) {
  // splitmix64 seeded with 0: the state advances by the golden gamma, then is mixed. The expected
  // values are the first outputs of the public-domain reference generator (splitmix64.c).
  constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ULL;
  EXPECT_EQ(detail::splitmix64_mix(1 * kGamma), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(detail::splitmix64_mix(2 * kGamma), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(detail::splitmix64_mix(3 * kGamma), 0x06c45d188009454fULL);
}

TEST(BlockHashTest, DeterministicAndSensitiveToEveryField) {
  const std::vector<int32_t> tokens = {1, 2, 3, 4};
  const BlockHash base = hash_of(kRootBlockHash, 0, tokens);
  EXPECT_EQ(base, hash_of(kRootBlockHash, 0, tokens));
  EXPECT_NE(base, hash_of(BlockHash{1, 0}, 0, tokens));
  EXPECT_NE(base, hash_of(BlockHash{0, 1}, 0, tokens));
  EXPECT_NE(base, hash_of(kRootBlockHash, 1, tokens));
  EXPECT_NE(base, hash_of(kRootBlockHash, 0, {1, 2, 3, 5}));
  EXPECT_NE(base, hash_of(kRootBlockHash, 0, {2, 1, 3, 4}));
  EXPECT_NE(base, hash_of(kRootBlockHash, 0, {1, 2, 3}));
  EXPECT_NE(hash_of(kRootBlockHash, 0, {1, 2, 3}), hash_of(kRootBlockHash, 0, {1, 2, 3, 0}));
  EXPECT_NE(hash_of(kRootBlockHash, 0, {-1}), hash_of(kRootBlockHash, 0, {0}));
}

TEST(BlockHashTest, SameTokensUnderDifferentParentsHashDifferently) {
  const std::vector<int32_t> first_a = {10, 11, 12, 13};
  const std::vector<int32_t> first_b = {20, 21, 22, 23};
  const std::vector<int32_t> second = {7, 7, 7, 7};
  const BlockHash parent_a = hash_of(kRootBlockHash, 0, first_a);
  const BlockHash parent_b = hash_of(kRootBlockHash, 0, first_b);
  EXPECT_NE(hash_of(parent_a, 0, second), hash_of(parent_b, 0, second));
  EXPECT_NE(hash_of(parent_a, 0, second), hash_of(kRootBlockHash, 0, second));
}

TEST(BlockHashTest, NoCollisionsInEitherLaneAcrossManyRandomBlocks) {
  constexpr int kNumBlocks = 100000;
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int32_t> token_dist(0, 3);  // tiny vocab: many near-identical blocks
  std::unordered_set<uint64_t> seen_lo;
  std::unordered_set<uint64_t> seen_hi;
  std::vector<int32_t> tokens(16);
  BlockHash parent = kRootBlockHash;
  for (int block_idx = 0; block_idx < kNumBlocks; ++block_idx) {
    for (int32_t& token : tokens) token = token_dist(rng);
    // Alternate chained and unchained blocks so both the parent and the tokens vary.
    BlockHash hash = hash_of(block_idx % 2 ? parent : kRootBlockHash, 0, tokens);
    parent = hash;
    seen_lo.insert(hash.lo);
    seen_hi.insert(hash.hi);
  }
  // Duplicate inputs are possible (4^16 blocks); at most a handful are expected.
  EXPECT_GE(seen_lo.size(), static_cast<size_t>(kNumBlocks - 5));
  EXPECT_EQ(seen_lo.size(), seen_hi.size());
}

TEST(BlockHashTest, OneBitFlipChangesAboutHalfTheOutputBits) {
  std::mt19937 rng(99);
  std::vector<int32_t> tokens(16);
  int64_t total_changed_bits = 0;
  constexpr int kNumTrials = 2000;
  for (int trial = 0; trial < kNumTrials; ++trial) {
    for (int32_t& token : tokens) token = static_cast<int32_t>(rng() & 0x7fffffff);
    const BlockHash before = hash_of(kRootBlockHash, 0, tokens);
    tokens[rng() % tokens.size()] ^= 1 << (rng() % 31);
    const BlockHash after = hash_of(kRootBlockHash, 0, tokens);
    total_changed_bits += std::popcount(before.lo ^ after.lo) + std::popcount(before.hi ^ after.hi);
  }
  const double mean_changed_bits = static_cast<double>(total_changed_bits) / kNumTrials;
  EXPECT_NEAR(mean_changed_bits, 64.0, 2.0);  // 128 output bits; a good mix flips each with p = 1/2
}

}  // namespace
}  // namespace frugal
