// BlockPool: a fixed set of KV blocks with reference counts, a prefix-cache index and LRU
// eviction (kv layer). Pure bookkeeping: it hands out block ids; the K/V rows live elsewhere.
//
// Central idea (vLLM v1 block_pool.py): a block whose ref_count drops to 0 goes to the tail of the
// free queue but KEEPS its content hash, so a later request with the same prefix can revive it
// (touch). Allocation takes blocks from the head; a head block that still holds a hash is evicted
// then (its hash is dropped). So the free queue is also the eviction order, least recently freed
// first, and "free" counts both empty and cached-but-unused blocks.
//
// Only full blocks are ever cached. Each cached block keeps its BlockKey (parent hash, extra key,
// token ids) so that lookup() can verify it: a hash collision is a miss, never a false hit.
//
// Threading: not thread-safe; owned by the KvCacheManager (scheduler thread).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "kv/block_hash.h"
#include "kv/free_block_queue.h"

namespace frugal {

class BlockPool {
 public:
  // Preconditions (CHECKed): num_blocks >= 0, block_size_tokens > 0.
  BlockPool(int32_t num_blocks, int32_t block_size_tokens);

  int32_t num_total_blocks() const { return static_cast<int32_t>(blocks_.size()); }
  int32_t block_size_tokens() const { return block_size_tokens_; }
  // Blocks with ref_count 0 (empty or cached-but-evictable): what allocate() can hand out.
  int32_t num_free_blocks() const { return free_queue_.size(); }
  // Blocks with ref_count > 0.
  int32_t num_used_blocks() const { return num_total_blocks() - num_free_blocks(); }
  // Blocks holding a content hash, in use or free.
  int32_t num_cached_blocks() const { return static_cast<int32_t>(hash_to_block_.size()); }
  // Cached blocks dropped by allocate() since construction.
  int64_t num_evictions() const { return num_evictions_; }

  // Takes num_blocks blocks from the head of the free queue (evicting cached ones), each with
  // ref_count 1, in the order taken. Returns nullopt, leaving the pool unchanged, when fewer than
  // num_blocks are free: running out of blocks is a value, not an error.
  std::optional<std::vector<BlockId>> allocate(int32_t num_blocks);

  // A prefix-cache hit: ref_count++ and, if the block was free, removal from the free queue.
  void touch(std::span<const BlockId> blocks);

  // ref_count-- on each block. blocks is in block-table order; blocks reaching 0 are appended to
  // the free queue LAST FIRST, so a sequence's tail blocks are evicted before its prefix (which is
  // more likely to be shared). Precondition (CHECKed): each ref_count > 0.
  void release(std::span<const BlockId> blocks);

  // Registers a full, in-use block under `hash`; key.token_ids must hold block_size_tokens ids.
  // Returns false (and changes nothing) when another block already holds `hash`: the first block
  // registered stays canonical, the duplicate is simply not cached.
  // Precondition (CHECKed): ref_count(block) > 0 and the block holds no hash.
  bool cache_full_block(BlockId block, const BlockHash& hash, const BlockKey& key);

  // Drops the block's hash, if any (its content is about to be overwritten).
  void uncache(BlockId block);

  // The cached block for `hash` whose stored key equals `key`, else nullopt. Does not touch it.
  std::optional<BlockId> lookup(const BlockHash& hash, const BlockKey& key) const;

  // Inspection (tests, debugging, the manager's checks).
  int32_t ref_count(BlockId block) const { return meta(block).ref_count; }
  std::optional<BlockHash> cached_hash(BlockId block) const;
  bool is_free(BlockId block) const { return free_queue_.contains(block); }
  // Free blocks from the next to allocate (head) to the last (tail).
  std::vector<BlockId> free_queue_order() const { return free_queue_.to_vector(); }

 private:
  struct BlockMeta {
    int32_t ref_count = 0;
    bool has_hash = false;
    BlockHash hash;                  // valid when has_hash
    BlockHash parent_hash;           // valid when has_hash
    uint64_t extra_key = 0;          // valid when has_hash
    std::vector<int32_t> token_ids;  // [block_size_tokens] when has_hash; capacity reused
  };

  const BlockMeta& meta(BlockId block) const;
  BlockMeta& meta(BlockId block);
  void evict_if_cached(BlockId block);

  int32_t block_size_tokens_;
  std::vector<BlockMeta> blocks_;  // [num_blocks]
  FreeBlockQueue free_queue_;
  std::unordered_map<BlockHash, BlockId, BlockHashHasher> hash_to_block_;
  int64_t num_evictions_ = 0;
};

}  // namespace frugal
