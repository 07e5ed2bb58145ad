// BlockPool implementation (kv layer).
#include "kv/block_pool.h"

#include <algorithm>

#include "core/check.h"

namespace frugal {

BlockPool::BlockPool(int32_t num_blocks, int32_t block_size_tokens)
    : block_size_tokens_(block_size_tokens),
      blocks_(static_cast<size_t>(std::max(num_blocks, 0))),
      free_queue_(std::max(num_blocks, 0)) {
  CHECK(num_blocks >= 0, "BlockPool: negative block count");
  CHECK(block_size_tokens > 0, "BlockPool: block size must be positive");
  hash_to_block_.reserve(blocks_.size());
}

const BlockPool::BlockMeta& BlockPool::meta(BlockId block) const {
  CHECK(block >= 0 && block < num_total_blocks(), "BlockPool: block id out of range");
  return blocks_[static_cast<size_t>(block)];
}

BlockPool::BlockMeta& BlockPool::meta(BlockId block) {
  CHECK(block >= 0 && block < num_total_blocks(), "BlockPool: block id out of range");
  return blocks_[static_cast<size_t>(block)];
}

std::optional<std::vector<BlockId>> BlockPool::allocate(int32_t num_blocks) {
  CHECK(num_blocks >= 0, "BlockPool::allocate: negative count");
  if (num_blocks > free_queue_.size()) return std::nullopt;
  std::vector<BlockId> taken;
  taken.reserve(static_cast<size_t>(num_blocks));
  for (int32_t taken_idx = 0; taken_idx < num_blocks; ++taken_idx) {
    BlockId block = free_queue_.pop_front();
    if (meta(block).has_hash) ++num_evictions_;
    evict_if_cached(block);
    meta(block).ref_count = 1;
    taken.push_back(block);
  }
  return taken;
}

void BlockPool::touch(std::span<const BlockId> blocks) {
  for (BlockId block : blocks) {
    BlockMeta& block_meta = meta(block);
    if (block_meta.ref_count == 0) free_queue_.remove(block);
    ++block_meta.ref_count;
  }
}

void BlockPool::release(std::span<const BlockId> blocks) {
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    BlockMeta& block_meta = meta(*it);
    CHECK(block_meta.ref_count > 0, "BlockPool::release: block is already free");
    if (--block_meta.ref_count == 0) free_queue_.push_back(*it);
  }
}

bool BlockPool::cache_full_block(BlockId block, const BlockHash& hash, const BlockKey& key) {
  BlockMeta& block_meta = meta(block);
  CHECK(block_meta.ref_count > 0, "BlockPool::cache_full_block: block is not in use");
  CHECK(!block_meta.has_hash, "BlockPool::cache_full_block: block is already cached");
  CHECK(static_cast<int32_t>(key.token_ids.size()) == block_size_tokens_,
        "BlockPool::cache_full_block: only full blocks are cached");
  if (!hash_to_block_.try_emplace(hash, block).second) return false;
  block_meta.has_hash = true;
  block_meta.hash = hash;
  block_meta.parent_hash = key.parent_hash;
  block_meta.extra_key = key.extra_key;
  block_meta.token_ids.assign(key.token_ids.begin(), key.token_ids.end());
  return true;
}

void BlockPool::uncache(BlockId block) { evict_if_cached(block); }

void BlockPool::evict_if_cached(BlockId block) {
  BlockMeta& block_meta = meta(block);
  if (!block_meta.has_hash) return;
  hash_to_block_.erase(block_meta.hash);
  block_meta.has_hash = false;
  block_meta.token_ids.clear();
}

std::optional<BlockId> BlockPool::lookup(const BlockHash& hash, const BlockKey& key) const {
  auto found = hash_to_block_.find(hash);
  if (found == hash_to_block_.end()) return std::nullopt;
  const BlockMeta& block_meta = meta(found->second);
  bool same_key = block_meta.parent_hash == key.parent_hash && block_meta.extra_key == key.extra_key &&
                  std::equal(block_meta.token_ids.begin(), block_meta.token_ids.end(), key.token_ids.begin(),
                             key.token_ids.end());
  if (!same_key) return std::nullopt;
  return found->second;
}

std::optional<BlockHash> BlockPool::cached_hash(BlockId block) const {
  const BlockMeta& block_meta = meta(block);
  if (!block_meta.has_hash) return std::nullopt;
  return block_meta.hash;
}

}  // namespace frugal
