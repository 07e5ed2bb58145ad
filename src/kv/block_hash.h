// BlockHash: the content hash of a full KV block, chained to its parent block (kv layer).
//
// A full block's identity is (parent block's hash, the block's token ids, an extra key such as a
// model/LoRA id or a per-tenant cache salt). Chaining makes the hash of block i depend on every
// token before it, so equal hashes mean equal prefixes (vLLM v1's prefix-caching scheme).
//
// The hash is 128 bits: two independent 64-bit lanes, each a multiply-xorshift sponge over the
// input words. It is NOT cryptographic. Collisions are made harmless by the block pool, which keeps
// the full BlockKey beside each cached hash and compares it on lookup (a mismatch is a miss); the
// parent is compared by hash, so a false hit needs a 128-bit collision on the parent chain.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace frugal {

struct BlockHash {
  uint64_t lo = 0;
  uint64_t hi = 0;
  friend bool operator==(const BlockHash&, const BlockHash&) = default;
};

// The parent hash of a sequence's first block.
inline constexpr BlockHash kRootBlockHash{};

struct BlockHashHasher {
  size_t operator()(const BlockHash& hash) const noexcept { return static_cast<size_t>(hash.lo ^ hash.hi); }
};

// Everything a full block's hash is computed from. Non-owning view: token_ids must outlive it.
struct BlockKey {
  BlockHash parent_hash = kRootBlockHash;
  uint64_t extra_key = 0;                // model / LoRA id / cache salt; 0 = none
  std::span<const int32_t> token_ids;    // [block_size_tokens]
};

// hash(parent_hash, token_ids, extra_key). Deterministic across runs and platforms.
BlockHash hash_block(const BlockKey& key) noexcept;

// The hash function the KV cache manager uses; tests inject a degenerate one to force collisions.
using BlockHashFn = BlockHash (*)(const BlockKey& key);

namespace detail {
// splitmix64's output function (Steele, Lea, Flood 2014; public domain): a bijective 64-bit mix.
uint64_t splitmix64_mix(uint64_t x) noexcept;
}  // namespace detail

}  // namespace frugal
