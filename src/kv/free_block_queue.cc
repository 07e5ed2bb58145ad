// FreeBlockQueue implementation (kv layer).
#include "kv/free_block_queue.h"

#include "core/check.h"

namespace frugal {

FreeBlockQueue::FreeBlockQueue(int32_t num_blocks)
    : prev_(static_cast<size_t>(num_blocks), kNoBlock),
      next_(static_cast<size_t>(num_blocks), kNoBlock),
      in_queue_(static_cast<size_t>(num_blocks), false) {
  CHECK(num_blocks >= 0, "FreeBlockQueue: negative block count");
  for (BlockId block = 0; block < num_blocks; ++block) push_back(block);
}

void FreeBlockQueue::check_id(BlockId block) const {
  CHECK(block >= 0 && static_cast<size_t>(block) < in_queue_.size(), "FreeBlockQueue: block id out of range");
}

bool FreeBlockQueue::contains(BlockId block) const {
  check_id(block);
  return in_queue_[static_cast<size_t>(block)];
}

BlockId FreeBlockQueue::pop_front() {
  CHECK(!empty(), "FreeBlockQueue::pop_front on an empty queue");
  BlockId block = head_;
  remove(block);
  return block;
}

void FreeBlockQueue::push_back(BlockId block) {
  CHECK(!contains(block), "FreeBlockQueue::push_back: block already free");
  auto idx = static_cast<size_t>(block);
  prev_[idx] = tail_;
  next_[idx] = kNoBlock;
  if (tail_ == kNoBlock) {
    head_ = block;
  } else {
    next_[static_cast<size_t>(tail_)] = block;
  }
  tail_ = block;
  in_queue_[idx] = true;
  ++size_;
}

void FreeBlockQueue::remove(BlockId block) {
  CHECK(contains(block), "FreeBlockQueue::remove: block is not free");
  auto idx = static_cast<size_t>(block);
  BlockId prev = prev_[idx];
  BlockId next = next_[idx];
  if (prev == kNoBlock) {
    head_ = next;
  } else {
    next_[static_cast<size_t>(prev)] = next;
  }
  if (next == kNoBlock) {
    tail_ = prev;
  } else {
    prev_[static_cast<size_t>(next)] = prev;
  }
  prev_[idx] = kNoBlock;
  next_[idx] = kNoBlock;
  in_queue_[idx] = false;
  --size_;
}

std::vector<BlockId> FreeBlockQueue::to_vector() const {
  std::vector<BlockId> blocks;
  blocks.reserve(static_cast<size_t>(size_));
  for (BlockId block = head_; block != kNoBlock; block = next_[static_cast<size_t>(block)]) blocks.push_back(block);
  return blocks;
}

}  // namespace frugal
