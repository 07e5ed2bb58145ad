// ThreadPool: persistent workers for data-parallel ops (core layer).
// The calling thread takes part as thread 0, so a pool of n threads starts n-1 workers.
// Threading contract: run(), run_chunks() and parallel_for() are called from one thread at a time
// (the engine's compute thread); each returns only when all of its work is done. Workers spin
// briefly, then park on a condition variable, so an idle pool costs no CPU.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
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

  // Calls fn(thread_idx, num_threads) once on each thread; blocks until all return. Use it when
  // every thread must really run its share at the same time (bandwidth/FLOP probes).
  void run(const std::function<void(int thread_idx, int num_threads)>& fn);

  // Calls fn(chunk_idx) exactly once for every chunk_idx in [0, n_chunks), on whichever threads
  // claim them first. The chunks are cut into one contiguous range per thread: each thread claims
  // its own range first (in increasing order), then helps with the others'. So a job repeated
  // with the same n_chunks (a matmul every decode step) gives each thread the same rows each time,
  // and a thread's share of a small model stays in its core's L2; and a worker that is
  // descheduled (an oversubscribed machine) or wakes late simply claims fewer chunks: nobody waits
  // for a thread that has no work in flight. Returns when every chunk has finished.
  void run_chunks(int64_t n_chunks, const std::function<void(int64_t chunk_idx)>& fn);

  // Splits [0, n) into contiguous ranges, fn(begin, end) for each (claimed as in run_chunks).
  void parallel_for(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

 private:
  enum class JobKind { kPerThread, kChunks };
  // The generation word carries the job kind in its lowest bit, so a worker reads the kind and the
  // job's identity in one load (reading them separately let a worker pair a new kind with an old
  // generation and run a per-thread job twice).
  uint64_t next_generation(JobKind kind) const;
  static JobKind kind_of(uint64_t generation) { return (generation & 1u) != 0 ? JobKind::kChunks : JobKind::kPerThread; }
  void publish(uint64_t generation);
  void worker_loop(int thread_idx);
  void claim_chunks(uint32_t generation, int thread_idx);
  // Thread r's range of a job of n chunks: [range_begin(r, n), range_begin(r + 1, n)).
  int64_t range_begin(int r, int64_t n) const { return r * n / num_threads_; }

  int num_threads_;
  std::vector<std::thread> workers_;
  // The current job: written by the caller before `generation_` moves on, read by workers after.
  // Atomics because a late worker may read them while the caller already writes the next job's.
  const std::function<void(int, int)>* job_ = nullptr;  // read only by workers the caller waits for
  std::atomic<const std::function<void(int64_t)>*> chunk_job_{nullptr};
  std::atomic<int64_t> n_chunks_{0};
  std::atomic<uint64_t> generation_{0};  // (job sequence number << 1) | kind bit; written by the caller only
  std::atomic<int> pending_{0};        // kPerThread: workers that have not finished fn
  // kChunks: per thread's range, (generation << 32) | next unclaimed chunk of the range.
  struct alignas(64) ClaimWord {
    std::atomic<uint64_t> word{0};
  };
  std::unique_ptr<ClaimWord[]> next_chunk_;
  std::atomic<int64_t> done_chunks_{0};  // kChunks: chunks finished
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
};

// Number of threads to use by default: the machine's physical-ish core count (hardware_concurrency).
int default_num_threads();

}  // namespace frugal
