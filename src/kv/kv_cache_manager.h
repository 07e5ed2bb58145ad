// KvCacheManager: per-sequence block tables over a BlockPool, with prefix caching, fork with
// copy-on-write, and rollback (kv layer). Pure bookkeeping: no tensors, no model.
//
// The life of a sequence (vLLM v1 kv_cache_manager.py):
//   prefix = find_cached_prefix(prompt)          longest chain of cached full blocks
//   allocate_slots(seq, n, &prefix)              table covers prefix + n new tokens, or nullopt
//   ... engine runs CopyOps, writes K/V, runs the forward pass ...
//   commit_tokens(seq, computed_tokens)          newly full blocks become prefix-cache entries
//   allocate_slots(seq, 1) / truncate / fork     decode, speculative rollback, n>1 sampling
//   free(seq)                                    blocks return to the pool; cached ones stay revivable
//
// A sequence's table covers positions [0, num_tokens(seq)): block b holds positions
// [b*block_size, (b+1)*block_size). Slots are reserved by allocate_slots before the K/V is written;
// commit_tokens says which of them now hold computed K/V.
//
// Invariant: a block holding a prefix-cache hash is never written. Before a sequence writes into
// its last partial block, allocate_slots replaces a shared block (ref_count > 1) by a fresh copy
// (a CopyOp) and drops the hash of an unshared cached one.
//
// Threading: not thread-safe; owned and called by the scheduler thread only.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "kv/block_hash.h"
#include "kv/block_pool.h"

namespace frugal {

using SeqId = int64_t;

struct KvCacheConfig {
  int32_t num_blocks = 0;
  int32_t block_size_tokens = 16;
  bool enable_prefix_caching = true;
  BlockHashFn hash_fn = hash_block;  // a test hook: inject a degenerate hash to force collisions
};

// The cached prefix of a prompt, from find_cached_prefix. Valid only until the pool next changes:
// pass it to allocate_slots right away (the scheduler does both in one step).
struct CachedPrefix {
  std::vector<BlockId> blocks;          // [num_cached_tokens / block_size_tokens]
  std::vector<BlockHash> block_hashes;  // [num_cached_tokens / block_size_tokens]
  int32_t num_cached_tokens = 0;        // a multiple of block_size_tokens, < the prompt's length
  uint64_t extra_key = 0;               // the key it was looked up under; the sequence keeps it
};

// Copy every K/V row of block src into block dst, before the forward pass that writes dst.
struct CopyOp {
  BlockId src = kNoBlock;
  BlockId dst = kNoBlock;
  friend bool operator==(const CopyOp&, const CopyOp&) = default;
};

struct SlotAllocation {
  std::vector<CopyOp> copy_ops;  // copy-on-write work for the engine; usually empty
};

struct PrefixCacheStats {
  int64_t num_queries = 0;       // find_cached_prefix calls
  int64_t num_query_tokens = 0;  // prompt tokens looked up
  int64_t num_hit_tokens = 0;    // tokens served from the cache
  double hit_rate() const {
    return num_query_tokens == 0 ? 0.0 : static_cast<double>(num_hit_tokens) / static_cast<double>(num_query_tokens);
  }
};

class KvCacheManager {
 public:
  // Preconditions (CHECKed): num_blocks >= 0, block_size_tokens > 0, hash_fn != nullptr.
  explicit KvCacheManager(const KvCacheConfig& config);

  // How many blocks of block_size_tokens fit in kv_bytes_budget, at bytes_per_token bytes of K/V
  // per token (all layers, K and V). A non-positive budget gives 0; clamped to INT32_MAX.
  // Preconditions (CHECKed): bytes_per_token > 0, block_size_tokens > 0.
  static int32_t blocks_for_budget(int64_t kv_bytes_budget, int64_t bytes_per_token, int32_t block_size_tokens);

  // The longest chain of cached full blocks that prefixes prompt_tokens under extra_key. Never
  // the whole prompt: at most prompt_tokens.size() - 1 tokens hit, so at least one token is
  // computed and the model produces logits. Updates the stats; changes no block.
  CachedPrefix find_cached_prefix(std::span<const int32_t> prompt_tokens, uint64_t extra_key = 0);

  // Grows seq's table to cover num_new_tokens more positions. A new seq starts from `prefix`
  // (touching its blocks) or empty; an existing seq must pass prefix == nullptr. Returns nullopt,
  // changing nothing, when the pool lacks the blocks (the scheduler then preempts); otherwise the
  // CopyOps the engine must run first. New blocks are appended after any copy-on-write block.
  std::optional<SlotAllocation> allocate_slots(SeqId seq, int32_t num_new_tokens, const CachedPrefix* prefix = nullptr);

  // computed_tokens: the seq's tokens whose K/V is now written, from position 0. Registers the
  // seq's newly full blocks in the prefix cache. Precondition (CHECKed): size <= num_tokens(seq).
  void commit_tokens(SeqId seq, std::span<const int32_t> computed_tokens);

  // Releases seq's blocks (tail first into the eviction order). No-op for an unknown seq.
  void free(SeqId seq);

  // child shares all of parent's blocks (ref_count++). The shared last partial block is copied
  // on the first write (see allocate_slots). Preconditions (CHECKed): parent exists, child does not.
  void fork(SeqId parent, SeqId child);

  // Rolls seq back to its first num_tokens positions (rejected speculative tokens), releasing the
  // blocks past them. Precondition (CHECKed): 0 <= num_tokens <= num_tokens(seq).
  void truncate(SeqId seq, int32_t num_tokens);

  bool has_sequence(SeqId seq) const { return seqs_.contains(seq); }
  // Preconditions (CHECKed): seq exists.
  const std::vector<BlockId>& block_table(SeqId seq) const;  // [cdiv(num_tokens, block_size)]
  int32_t num_tokens(SeqId seq) const;
  // The flat K/V slot of a position: block_table[position / block_size] * block_size + offset.
  // Precondition (CHECKed): 0 <= position < num_tokens(seq).
  int64_t slot_index(SeqId seq, int32_t position) const;

  int32_t block_size_tokens() const { return pool_.block_size_tokens(); }
  int32_t num_free_blocks() const { return pool_.num_free_blocks(); }
  int32_t num_used_blocks() const { return pool_.num_used_blocks(); }
  int32_t num_total_blocks() const { return pool_.num_total_blocks(); }
  const PrefixCacheStats& prefix_cache_stats() const { return stats_; }
  void reset_prefix_cache_stats() { stats_ = PrefixCacheStats{}; }
  const BlockPool& pool() const { return pool_; }

 private:
  struct SeqState {
    std::vector<BlockId> blocks;          // [cdiv(num_tokens, block_size)]
    std::vector<BlockHash> block_hashes;  // [num committed full blocks], the hash chain
    int32_t num_tokens = 0;
    uint64_t extra_key = 0;
  };

  SeqState& state(SeqId seq);
  const SeqState& state(SeqId seq) const;
  void check_prefix(const CachedPrefix& prefix) const;
  int32_t num_blocks_for(int64_t num_tokens) const;
  // The block that position seq.num_tokens falls in if it is already allocated (a partial last
  // block), else kNoBlock.
  BlockId partial_write_block(const SeqState& seq_state) const;
  // Makes the partial last block safe to write: copy-on-write if shared, uncache if cached.
  void prepare_write_block(SeqState& seq_state, std::vector<CopyOp>& copy_ops);

  KvCacheConfig config_;
  BlockPool pool_;
  std::unordered_map<SeqId, SeqState> seqs_;
  PrefixCacheStats stats_;
};

}  // namespace frugal
