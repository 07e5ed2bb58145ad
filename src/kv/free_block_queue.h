// FreeBlockQueue: the free KV blocks in eviction (LRU) order, an intrusive doubly linked list
// over block ids (kv layer).
//
// The head is the next block to hand out (and, if it still holds a cached hash, to evict); freed
// blocks are appended at the tail. Every operation is O(1) and allocation-free after construction,
// including removing a block from the middle (a prefix-cache hit on a free cached block).
// Threading: not thread-safe; owned by the BlockPool.
#pragma once

#include <cstdint>
#include <vector>

namespace frugal {

using BlockId = int32_t;
inline constexpr BlockId kNoBlock = -1;

class FreeBlockQueue {
 public:
  // Starts with every block 0..num_blocks-1 free, in id order.
  explicit FreeBlockQueue(int32_t num_blocks);

  int32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool contains(BlockId block) const;

  // Precondition (CHECKed): !empty().
  BlockId pop_front();
  // Precondition (CHECKed): !contains(block).
  void push_back(BlockId block);
  // Precondition (CHECKed): contains(block).
  void remove(BlockId block);

  // Head to tail; O(size), for tests and debugging.
  std::vector<BlockId> to_vector() const;

 private:
  void check_id(BlockId block) const;

  std::vector<BlockId> prev_;    // [num_blocks] previous free block, kNoBlock at the head
  std::vector<BlockId> next_;    // [num_blocks] next free block, kNoBlock at the tail
  std::vector<bool> in_queue_;   // [num_blocks]
  BlockId head_ = kNoBlock;
  BlockId tail_ = kNoBlock;
  int32_t size_ = 0;
};

}  // namespace frugal
