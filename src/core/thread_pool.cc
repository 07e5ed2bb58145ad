#include "core/thread_pool.h"

#include <algorithm>

#include "core/check.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace frugal {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// Spin this many iterations (~tens of microseconds) before parking: ops in a forward pass come
// back-to-back, and a futex wake costs more than a short spin.
constexpr int kSpinIterations = 20000;
// parallel_for: chunks per thread, so that a descheduled thread's share is small and the others
// take over the rest.
constexpr int64_t kChunksPerThread = 4;

// Spins on `done`, then yields: when the machine is oversubscribed a worker may be descheduled,
// and spinning the caller's whole time slice would only delay it further.
template <typename Done>
void wait_until(const Done& done) {
  for (int spins = 0; !done(); ++spins) {
    if (spins < kSpinIterations) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

uint64_t claim_word(uint64_t generation, uint64_t chunk_idx) { return (generation << 32) | chunk_idx; }
// A chunk index no job reaches: the claim word of a job whose fields are being written.
constexpr uint64_t kClosedChunk = 0xffffffffu;

}  // namespace

int default_num_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int num_threads)
    : num_threads_(std::max(1, num_threads)), next_chunk_(std::make_unique<ClaimWord[]>(static_cast<size_t>(num_threads_))) {
  workers_.reserve(num_threads_ - 1);
  for (int thread_idx = 1; thread_idx < num_threads_; ++thread_idx) {
    workers_.emplace_back([this, thread_idx] { worker_loop(thread_idx); });
  }
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  publish(next_generation(JobKind::kPerThread));
  for (auto& worker : workers_) worker.join();
}

uint64_t ThreadPool::next_generation(JobKind kind) const {
  return (((generation_.load(std::memory_order_relaxed) >> 1) + 1) << 1) | (kind == JobKind::kChunks ? 1u : 0u);
}

void ThreadPool::publish(uint64_t generation) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.store(generation, std::memory_order_seq_cst);
  }
  wake_.notify_all();
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  if (num_threads_ == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  pending_.store(num_threads_ - 1, std::memory_order_seq_cst);
  publish(next_generation(JobKind::kPerThread));
  fn(0, num_threads_);
  wait_until([&] { return pending_.load(std::memory_order_acquire) == 0; });
  job_ = nullptr;
}

void ThreadPool::run_chunks(int64_t n_chunks, const std::function<void(int64_t)>& fn) {
  if (n_chunks <= 0) return;
  CHECK(n_chunks < static_cast<int64_t>(kClosedChunk), "run_chunks: too many chunks");
  if (num_threads_ == 1 || n_chunks == 1) {
    for (int64_t c = 0; c < n_chunks; ++c) fn(c);
    return;
  }
  // The claim words carry the generation, so a late worker of an earlier job can never claim a
  // chunk of this one; every field below is written before the generation moves on.
  const uint64_t generation = next_generation(JobKind::kChunks);
  const uint64_t tag = generation & 0xffffffffu;
  // Close the claim words under the new tag before touching the job's fields: a late worker of the
  // previous job may still hold that job's claim word, and must not be able to pair it with this
  // job's chunk count (its compare-exchange now fails and it sees the new tag).
  for (int r = 0; r < num_threads_; ++r) next_chunk_[r].word.store(claim_word(tag, kClosedChunk), std::memory_order_seq_cst);
  chunk_job_.store(&fn, std::memory_order_seq_cst);
  n_chunks_.store(n_chunks, std::memory_order_seq_cst);
  done_chunks_.store(0, std::memory_order_seq_cst);
  for (int r = 0; r < num_threads_; ++r) {
    next_chunk_[r].word.store(claim_word(tag, static_cast<uint64_t>(range_begin(r, n_chunks))), std::memory_order_seq_cst);
  }
  publish(generation);
  claim_chunks(static_cast<uint32_t>(tag), 0);
  wait_until([&] { return done_chunks_.load(std::memory_order_acquire) == n_chunks; });
}

void ThreadPool::claim_chunks(uint32_t generation, int thread_idx) {
  // Own range first, then the others' in turn (a closed word's index is past every range's end).
  for (int i = 0; i < num_threads_; ++i) {
    const int r = (thread_idx + i) % num_threads_;
    std::atomic<uint64_t>& next = next_chunk_[r].word;
    uint64_t word = next.load(std::memory_order_seq_cst);
    for (;;) {
      if ((word >> 32) != generation) return;  // a later job: this one is over
      const uint64_t chunk_idx = word & 0xffffffffu;
      if (static_cast<int64_t>(chunk_idx) >= range_begin(r + 1, n_chunks_.load(std::memory_order_seq_cst))) break;
      if (!next.compare_exchange_weak(word, word + 1, std::memory_order_seq_cst)) continue;
      // The claim succeeded, so this job cannot finish (and its fields cannot change) before the
      // chunk is counted done.
      (*chunk_job_.load(std::memory_order_seq_cst))(static_cast<int64_t>(chunk_idx));
      done_chunks_.fetch_add(1, std::memory_order_seq_cst);
      word = next.load(std::memory_order_seq_cst);
    }
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  const int64_t n_chunks = std::min<int64_t>(n, kChunksPerThread * num_threads_);
  const int64_t chunk = (n + n_chunks - 1) / n_chunks;
  run_chunks((n + chunk - 1) / chunk, [&](int64_t chunk_idx) {
    const int64_t begin = chunk_idx * chunk;
    fn(begin, std::min(n, begin + chunk));
  });
}

void ThreadPool::worker_loop(int thread_idx) {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen && spins < kSpinIterations) {
      cpu_relax();
      ++spins;
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
    }
    // One load gives the job and its kind. A chunk job may already be over (its claim word then
    // belongs to a later job and nothing is claimed); a per-thread job cannot move on without
    // this worker, so it is seen exactly once.
    seen = generation_.load(std::memory_order_seq_cst);
    if (stop_.load()) return;
    if (kind_of(seen) == JobKind::kChunks) {
      claim_chunks(static_cast<uint32_t>(seen & 0xffffffffu), thread_idx);
    } else {
      (*job_)(thread_idx, num_threads_);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }
}

}  // namespace frugal
