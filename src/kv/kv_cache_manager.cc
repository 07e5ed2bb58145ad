// KvCacheManager implementation (kv layer).
#include "kv/kv_cache_manager.h"

#include <algorithm>
#include <limits>

#include "core/check.h"

namespace frugal {

KvCacheManager::KvCacheManager(const KvCacheConfig& config)
    : config_(config), pool_(config.num_blocks, config.block_size_tokens) {
  CHECK(config.hash_fn != nullptr, "KvCacheManager: hash_fn must be set");
}

int32_t KvCacheManager::blocks_for_budget(int64_t kv_bytes_budget, int64_t bytes_per_token,
                                          int32_t block_size_tokens) {
  CHECK(bytes_per_token > 0, "blocks_for_budget: bytes_per_token must be positive");
  CHECK(block_size_tokens > 0, "blocks_for_budget: block_size_tokens must be positive");
  CHECK(bytes_per_token <= std::numeric_limits<int64_t>::max() / block_size_tokens,
        "blocks_for_budget: bytes per block overflows int64");
  if (kv_bytes_budget <= 0) return 0;
  int64_t bytes_per_block = bytes_per_token * block_size_tokens;
  int64_t num_blocks = kv_bytes_budget / bytes_per_block;
  return static_cast<int32_t>(std::min<int64_t>(num_blocks, std::numeric_limits<int32_t>::max()));
}

KvCacheManager::SeqState& KvCacheManager::state(SeqId seq) {
  auto found = seqs_.find(seq);
  CHECK(found != seqs_.end(), "KvCacheManager: unknown sequence");
  return found->second;
}

const KvCacheManager::SeqState& KvCacheManager::state(SeqId seq) const {
  auto found = seqs_.find(seq);
  CHECK(found != seqs_.end(), "KvCacheManager: unknown sequence");
  return found->second;
}

int32_t KvCacheManager::num_blocks_for(int64_t num_tokens) const {
  int64_t block_size = pool_.block_size_tokens();
  return static_cast<int32_t>((num_tokens + block_size - 1) / block_size);
}

CachedPrefix KvCacheManager::find_cached_prefix(std::span<const int32_t> prompt_tokens, uint64_t extra_key) {
  CachedPrefix prefix;
  prefix.extra_key = extra_key;
  if (!config_.enable_prefix_caching) return prefix;
  const int32_t block_size = pool_.block_size_tokens();
  // At least one prompt token must be computed, so only blocks within the first size-1 tokens count.
  const int64_t max_hit_tokens = std::max<int64_t>(static_cast<int64_t>(prompt_tokens.size()) - 1, 0);
  const int64_t max_hit_blocks = max_hit_tokens / block_size;
  BlockHash parent_hash = kRootBlockHash;
  for (int64_t block_idx = 0; block_idx < max_hit_blocks; ++block_idx) {
    BlockKey key{parent_hash, extra_key, prompt_tokens.subspan(static_cast<size_t>(block_idx * block_size),
                                                               static_cast<size_t>(block_size))};
    BlockHash hash = config_.hash_fn(key);
    std::optional<BlockId> block = pool_.lookup(hash, key);
    if (!block) break;
    prefix.blocks.push_back(*block);
    prefix.block_hashes.push_back(hash);
    parent_hash = hash;
  }
  prefix.num_cached_tokens = static_cast<int32_t>(prefix.blocks.size()) * block_size;
  ++stats_.num_queries;
  stats_.num_query_tokens += static_cast<int64_t>(prompt_tokens.size());
  stats_.num_hit_tokens += prefix.num_cached_tokens;
  return prefix;
}

void KvCacheManager::check_prefix(const CachedPrefix& prefix) const {
  CHECK(prefix.blocks.size() == prefix.block_hashes.size(), "CachedPrefix: blocks and hashes differ in length");
  CHECK(prefix.num_cached_tokens == static_cast<int32_t>(prefix.blocks.size()) * pool_.block_size_tokens(),
        "CachedPrefix: num_cached_tokens does not match its blocks");
  for (size_t block_idx = 0; block_idx < prefix.blocks.size(); ++block_idx) {
    CHECK(pool_.cached_hash(prefix.blocks[block_idx]) == prefix.block_hashes[block_idx],
          "CachedPrefix is stale: a block was evicted since find_cached_prefix");
  }
}

BlockId KvCacheManager::partial_write_block(const SeqState& seq_state) const {
  const int32_t block_size = pool_.block_size_tokens();
  if (seq_state.num_tokens % block_size == 0) return kNoBlock;
  return seq_state.blocks[static_cast<size_t>(seq_state.num_tokens / block_size)];
}

std::optional<SlotAllocation> KvCacheManager::allocate_slots(SeqId seq, int32_t num_new_tokens,
                                                             const CachedPrefix* prefix) {
  CHECK(num_new_tokens >= 0, "allocate_slots: negative token count");
  auto found = seqs_.find(seq);
  const bool is_new = found == seqs_.end();
  CHECK(is_new || prefix == nullptr, "allocate_slots: a prefix is only for a new sequence");
  SeqState candidate;  // a new sequence's starting state; unused for an existing one
  if (is_new && prefix != nullptr) {
    check_prefix(*prefix);
    candidate = SeqState{prefix->blocks, prefix->block_hashes, prefix->num_cached_tokens, prefix->extra_key};
  }
  const SeqState& current = is_new ? candidate : found->second;

  // Blocks this step takes from the free queue: new blocks, a copy-on-write block, and revived
  // prefix blocks (a free cached block leaves the queue when touched).
  const int64_t num_tokens_after = static_cast<int64_t>(current.num_tokens) + num_new_tokens;
  const int32_t num_blocks_to_add = num_blocks_for(num_tokens_after) - static_cast<int32_t>(current.blocks.size());
  const BlockId write_block = num_new_tokens > 0 ? partial_write_block(current) : kNoBlock;
  const bool needs_copy = write_block != kNoBlock && pool_.ref_count(write_block) > 1;
  int32_t num_revived = 0;
  if (is_new) {
    num_revived = static_cast<int32_t>(
        std::count_if(current.blocks.begin(), current.blocks.end(), [&](BlockId block) { return pool_.is_free(block); }));
  }
  if (num_blocks_to_add + (needs_copy ? 1 : 0) + num_revived > pool_.num_free_blocks()) return std::nullopt;

  SeqState& seq_state = is_new ? seqs_.emplace(seq, std::move(candidate)).first->second : found->second;
  if (is_new) pool_.touch(seq_state.blocks);
  SlotAllocation result;
  if (num_new_tokens > 0) prepare_write_block(seq_state, result.copy_ops);
  std::optional<std::vector<BlockId>> added = pool_.allocate(num_blocks_to_add);
  CHECK(added.has_value(), "allocate_slots: the pool shrank between the check and the allocation");
  seq_state.blocks.insert(seq_state.blocks.end(), added->begin(), added->end());
  seq_state.num_tokens = static_cast<int32_t>(num_tokens_after);
  return result;
}

void KvCacheManager::prepare_write_block(SeqState& seq_state, std::vector<CopyOp>& copy_ops) {
  const BlockId write_block = partial_write_block(seq_state);
  if (write_block == kNoBlock) return;
  if (pool_.ref_count(write_block) > 1) {
    std::optional<std::vector<BlockId>> fresh = pool_.allocate(1);
    CHECK(fresh.has_value(), "prepare_write_block: no block for copy-on-write after the check");
    const BlockId copy_block = fresh->front();
    copy_ops.push_back(CopyOp{write_block, copy_block});
    const BlockId released[] = {write_block};
    pool_.release(released);
    seq_state.blocks[static_cast<size_t>(seq_state.num_tokens / pool_.block_size_tokens())] = copy_block;
    return;
  }
  // Unshared but still registered (a full cached block that truncate made partial again): it is
  // about to be overwritten, so it must leave the prefix cache.
  pool_.uncache(write_block);
}

void KvCacheManager::commit_tokens(SeqId seq, std::span<const int32_t> computed_tokens) {
  SeqState& seq_state = state(seq);
  CHECK(static_cast<int64_t>(computed_tokens.size()) <= seq_state.num_tokens,
        "commit_tokens: more tokens than the table covers");
  if (!config_.enable_prefix_caching) return;
  const int32_t block_size = pool_.block_size_tokens();
  const size_t num_full_blocks = computed_tokens.size() / static_cast<size_t>(block_size);
  for (size_t block_idx = seq_state.block_hashes.size(); block_idx < num_full_blocks; ++block_idx) {
    const BlockHash parent_hash = block_idx == 0 ? kRootBlockHash : seq_state.block_hashes[block_idx - 1];
    BlockKey key{parent_hash, seq_state.extra_key,
                 computed_tokens.subspan(block_idx * static_cast<size_t>(block_size), static_cast<size_t>(block_size))};
    const BlockHash hash = config_.hash_fn(key);
    const BlockId block = seq_state.blocks[block_idx];
    std::optional<BlockHash> existing = pool_.cached_hash(block);
    if (existing.has_value()) {
      // Shared with a fork that committed it first: same content, same hash.
      DCHECK(*existing == hash, "commit_tokens: a shared block's content changed");
    } else {
      pool_.cache_full_block(block, hash, key);  // false = a duplicate; the first copy stays canonical
    }
    seq_state.block_hashes.push_back(hash);
  }
}

void KvCacheManager::free(SeqId seq) {
  auto found = seqs_.find(seq);
  if (found == seqs_.end()) return;
  pool_.release(found->second.blocks);
  seqs_.erase(found);
}

void KvCacheManager::fork(SeqId parent, SeqId child) {
  CHECK(!has_sequence(child), "fork: the child sequence already exists");
  SeqState child_state = state(parent);
  pool_.touch(child_state.blocks);
  seqs_.emplace(child, std::move(child_state));
}

void KvCacheManager::truncate(SeqId seq, int32_t num_tokens) {
  SeqState& seq_state = state(seq);
  CHECK(num_tokens >= 0 && num_tokens <= seq_state.num_tokens, "truncate: num_tokens out of range");
  const size_t num_blocks_kept = static_cast<size_t>(num_blocks_for(num_tokens));
  std::span<const BlockId> dropped(seq_state.blocks.begin() + static_cast<std::ptrdiff_t>(num_blocks_kept),
                                   seq_state.blocks.end());
  pool_.release(dropped);
  seq_state.blocks.resize(num_blocks_kept);
  const size_t num_full_blocks = static_cast<size_t>(num_tokens / pool_.block_size_tokens());
  seq_state.block_hashes.resize(std::min(seq_state.block_hashes.size(), num_full_blocks));
  seq_state.num_tokens = num_tokens;
}

const std::vector<BlockId>& KvCacheManager::block_table(SeqId seq) const { return state(seq).blocks; }

int32_t KvCacheManager::num_tokens(SeqId seq) const { return state(seq).num_tokens; }

int64_t KvCacheManager::slot_index(SeqId seq, int32_t position) const {
  const SeqState& seq_state = state(seq);
  CHECK(position >= 0 && position < seq_state.num_tokens, "slot_index: position outside the sequence");
  const int32_t block_size = pool_.block_size_tokens();
  const BlockId block = seq_state.blocks[static_cast<size_t>(position / block_size)];
  return static_cast<int64_t>(block) * block_size + position % block_size;
}

}  // namespace frugal
