// Tests core/thread_pool.h: every index is visited exactly once, repeatedly, for many shapes.
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace frugal {
namespace {

TEST(ThreadPool, ParallelForCoversEveryIndexOnce) {
  for (int num_threads : {1, 2, 3, 5}) {
    ThreadPool pool(num_threads);
    for (int64_t n : {0, 1, 2, 3, 7, 64, 1001}) {
      for (int rep = 0; rep < 20; ++rep) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        pool.parallel_for(n, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << n << " " << i;
      }
    }
  }
}

TEST(ThreadPool, RunGivesEachThreadItsIndex) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> seen(4);
  pool.run([&](int thread_idx, int num_threads) {
    EXPECT_EQ(num_threads, 4);
    seen[static_cast<size_t>(thread_idx)].fetch_add(1);
  });
  for (auto& s : seen) EXPECT_EQ(s.load(), 1);
}

// run_chunks claims chunks dynamically; interleaving it with per-thread jobs checks that a late
// worker of one job never claims or runs a chunk of the next.
TEST(ThreadPool, RunChunksRunsEveryChunkOnceInterleavedWithRun) {
  for (int num_threads : {1, 2, 3, 5}) {
    ThreadPool pool(num_threads);
    for (int rep = 0; rep < 200; ++rep) {
      const int64_t n = 1 + (rep * 37) % 300;
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.run_chunks(n, [&](int64_t chunk_idx) { hits[static_cast<size_t>(chunk_idx)].fetch_add(1); });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << n << " " << i;
      if (rep % 3 == 0) {
        std::atomic<int> calls{0};
        pool.run([&](int, int) { calls.fetch_add(1); });
        ASSERT_EQ(calls.load(), num_threads);
      }
    }
    pool.run_chunks(0, [](int64_t) { FAIL() << "no chunks to run"; });
  }
}

}  // namespace
}  // namespace frugal
