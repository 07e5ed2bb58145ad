// Tests core/thread_pool.h: every index is visited exactly once, repeatedly, for many shapes.
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
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

// Each thread claims its own contiguous range of a job's chunks first (the caller [0, n/2), the
// worker [n/2, n)), in increasing order, and only then helps with the other's: so a repeated job
// (a decode matmul) gives each core the same rows every time. The worker can only ever start in
// its own range: the caller reaches the worker's range only after finishing its own, so by the time
// the worker's range is exhausted the caller's is too.
TEST(ThreadPool, RunChunksGivesEachThreadItsOwnRangeFirst) {
  ThreadPool pool(2);
  const std::thread::id caller = std::this_thread::get_id();
  int reps_with_worker = 0;
  for (int rep = 0; rep < 100; ++rep) {
    const int64_t n = 16 + rep % 7;
    std::mutex mutex;
    std::vector<int64_t> by_caller, by_worker;
    pool.run_chunks(n, [&](int64_t chunk_idx) {
      // ~20 us of work per chunk, so that both threads take part.
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
      while (std::chrono::steady_clock::now() < until) {
      }
      std::lock_guard<std::mutex> lock(mutex);
      (std::this_thread::get_id() == caller ? by_caller : by_worker).push_back(chunk_idx);
    });
    ASSERT_EQ(static_cast<int64_t>(by_caller.size() + by_worker.size()), n);
    if (!by_worker.empty()) {
      ++reps_with_worker;
      ASSERT_GE(by_worker.front(), n / 2) << "the worker started outside its own range [" << n / 2 << ", " << n << ")";
    }
    // Within each range, a thread's claims increase.
    for (const auto* claims : {&by_caller, &by_worker}) {
      for (size_t i = 1; i < claims->size(); ++i) {
        const bool same_range = ((*claims)[i] >= n / 2) == ((*claims)[i - 1] >= n / 2);
        if (same_range) {
          ASSERT_GT((*claims)[i], (*claims)[i - 1]);
        }
      }
    }
    // Symmetrically, the caller can only start in [0, n/2).
    if (!by_caller.empty()) {
      ASSERT_LT(by_caller.front(), n / 2) << "the caller started outside its own range";
    }
  }
  EXPECT_GT(reps_with_worker, 0) << "the worker never took part: nothing was checked";
}

}  // namespace
}  // namespace frugal
