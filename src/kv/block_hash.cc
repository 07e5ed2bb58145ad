// BlockHash implementation: two 64-bit sponge lanes with bijective mixes (kv layer).
#include "kv/block_hash.h"

namespace frugal {
namespace detail {

uint64_t splitmix64_mix(uint64_t x) noexcept {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace detail

namespace {

// MurmurHash3's fmix64 (Appleby; public domain): a second bijective mix with unrelated constants,
// so that the two lanes do not collide together.
uint64_t murmur3_fmix64(uint64_t x) noexcept {
  x = (x ^ (x >> 33)) * 0xff51afd7ed558ccdULL;
  x = (x ^ (x >> 33)) * 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

uint64_t rotl64(uint64_t x, int bits) noexcept { return (x << bits) | (x >> (64 - bits)); }

// Absorbs 64-bit words into two lanes. Each step is a bijection of the state for a fixed word, so
// two inputs that differ only in their last word never collide within a lane.
class TwoLaneSponge {
 public:
  void absorb(uint64_t word) noexcept {
    lane_a_ = detail::splitmix64_mix(lane_a_ ^ word);
    lane_b_ = murmur3_fmix64(rotl64(lane_b_, 23) + word * 0x9e3779b97f4a7c15ULL);
    ++num_words_;
  }
  BlockHash finish() noexcept {
    // The word count closes the input so that no input is a prefix-extension of another.
    absorb(num_words_);
    return BlockHash{detail::splitmix64_mix(lane_a_ + lane_b_), murmur3_fmix64(lane_b_ ^ rotl64(lane_a_, 32))};
  }

 private:
  // Arbitrary distinct non-zero seeds (digits of pi and e) so the lanes start apart.
  uint64_t lane_a_ = 0x243f6a8885a308d3ULL;
  uint64_t lane_b_ = 0xb7e151628aed2a6aULL;
  uint64_t num_words_ = 0;
};

}  // namespace

BlockHash hash_block(const BlockKey& key) noexcept {
  TwoLaneSponge sponge;
  sponge.absorb(key.parent_hash.lo);
  sponge.absorb(key.parent_hash.hi);
  sponge.absorb(key.extra_key);
  sponge.absorb(static_cast<uint64_t>(key.token_ids.size()));
  size_t token_idx = 0;
  for (; token_idx + 1 < key.token_ids.size(); token_idx += 2) {
    uint64_t low = static_cast<uint32_t>(key.token_ids[token_idx]);
    uint64_t high = static_cast<uint32_t>(key.token_ids[token_idx + 1]);
    sponge.absorb(low | (high << 32));
  }
  if (token_idx < key.token_ids.size()) sponge.absorb(static_cast<uint32_t>(key.token_ids[token_idx]));
  return sponge.finish();
}

}  // namespace frugal
