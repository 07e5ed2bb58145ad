// ThreadPool: persistent workers for data-parallel ops (core layer).
// The calling thread takes part as thread 0, so a pool of n threads starts n-1 workers.
// Threading contract: run() is called from one thread at a time (the engine's compute thread);
// it returns only when every thread has finished fn. Workers spin briefly, then park on a
// condition variable, so an idle pool costs no CPU.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace frugal {

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Calls fn(thread_idx, num_threads) once on each thread; blocks until all return.
  void run(const std::function<void(int thread_idx, int num_threads)>& fn);

  // Splits [0, n) into contiguous ranges, one per thread: fn(begin, end).
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

 private:
  void worker_loop(int thread_idx);

  int num_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

// Number of threads to use by default: the machine's physical-ish core count (hardware_concurrency).
int default_num_threads();

}  // namespace frugal
