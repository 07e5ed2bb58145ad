// Tests for kv/free_block_queue: order, O(1) removal from any position, membership.
#include "kv/free_block_queue.h"

#include <vector>

#include <gtest/gtest.h>

namespace frugal {
namespace {

using Ids = std::vector<BlockId>;

TEST(FreeBlockQueueTest, StartsWithAllBlocksInIdOrder) {
  FreeBlockQueue queue(4);
  EXPECT_EQ(queue.size(), 4);
  EXPECT_EQ(queue.to_vector(), (Ids{0, 1, 2, 3}));
  EXPECT_TRUE(FreeBlockQueue(0).empty());
}

TEST(FreeBlockQueueTest, PopsFromHeadAndPushesToTail) {
  FreeBlockQueue queue(4);
  EXPECT_EQ(queue.pop_front(), 0);
  EXPECT_EQ(queue.pop_front(), 1);
  EXPECT_FALSE(queue.contains(0));
  queue.push_back(0);
  EXPECT_EQ(queue.to_vector(), (Ids{2, 3, 0}));
  queue.push_back(1);
  EXPECT_EQ(queue.to_vector(), (Ids{2, 3, 0, 1}));
}

TEST(FreeBlockQueueTest, RemovesFromHeadMiddleAndTail) {
  FreeBlockQueue queue(5);
  queue.remove(2);
  EXPECT_EQ(queue.to_vector(), (Ids{0, 1, 3, 4}));
  queue.remove(0);
  EXPECT_EQ(queue.to_vector(), (Ids{1, 3, 4}));
  queue.remove(4);
  EXPECT_EQ(queue.to_vector(), (Ids{1, 3}));
  queue.push_back(2);
  EXPECT_EQ(queue.to_vector(), (Ids{1, 3, 2}));
  queue.remove(1);
  queue.remove(3);
  queue.remove(2);
  EXPECT_TRUE(queue.empty());
  queue.push_back(4);
  EXPECT_EQ(queue.to_vector(), (Ids{4}));
  EXPECT_EQ(queue.pop_front(), 4);
}

}  // namespace
}  // namespace frugal
