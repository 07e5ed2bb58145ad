#include "engine/membw.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <new>
#include <vector>
#include <string>

namespace frugal {
namespace {

constexpr int64_t kMinArrayBytes = int64_t{1} << 20;
// 64-byte alignment: one cache line, and the widest vector load.
constexpr std::align_val_t kArrayAlignment{64};
// Triad scalar (STREAM's value).
constexpr double kTriadScalar = 3.0;

// Eight independent accumulators so the adds pipeline (and vectorise) without -ffast-math.
double read_sum(const double* a, int64_t begin, int64_t end) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    for (int lane = 0; lane < 8; ++lane) acc[lane] += a[i + lane];
  }
  for (; i < end; ++i) acc[0] += a[i];
  double total = 0;
  for (double v : acc) total += v;
  return total;
}

void copy_range(const double* a, double* c, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) c[i] = a[i];
}

void triad_range(double* a, const double* b, const double* c, double s, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) a[i] = b[i] + s * c[i];
}

// GB/s of each of `repetitions` timed runs of fn over each thread's slice [begin, end), after one
// untimed warm-up run; `bytes` is what one run moves.
template <typename Fn>
MembwStats timed_runs(ThreadPool& pool, int64_t n_elems, int repetitions, double bytes, const Fn& fn) {
  std::vector<double> gb_per_s;
  for (int rep = -1; rep < repetitions; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    pool.run([&](int thread_idx, int num_threads) {
      const int64_t chunk = (n_elems + num_threads - 1) / num_threads;
      const int64_t begin = std::min(n_elems, chunk * thread_idx);
      const int64_t end = std::min(n_elems, begin + chunk);
      fn(thread_idx, begin, end);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (rep >= 0 && seconds > 0) gb_per_s.push_back(bytes / seconds / 1e9);
  }
  return membw_stats(std::move(gb_per_s));
}

}  // namespace

MembwStats membw_stats(std::vector<double> gb_per_s) {
  if (gb_per_s.empty()) return {};
  std::sort(gb_per_s.begin(), gb_per_s.end());
  const size_t n = gb_per_s.size();
  const double median = n % 2 == 1 ? gb_per_s[n / 2] : 0.5 * (gb_per_s[n / 2 - 1] + gb_per_s[n / 2]);
  return MembwStats{gb_per_s.back(), median, gb_per_s.front()};
}

int64_t default_probe_array_bytes(int64_t llc_bytes, int64_t available_bytes) {
  constexpr int64_t kMiB = int64_t{1} << 20;
  int64_t bytes = std::max<int64_t>(128 * kMiB, 4 * std::max<int64_t>(0, llc_bytes));
  if (available_bytes > 0) bytes = std::min(bytes, available_bytes / 6);  // 3 arrays in half of it
  return std::max(kMiB, bytes / kMiB * kMiB);
}

void MembwProbe::FreeAligned::operator()(double* p) const { ::operator delete[](p, kArrayAlignment); }

MembwProbe::MembwProbe(int64_t n_elems, Array a, Array b, Array c)
    : n_elems_(n_elems), a_(std::move(a)), b_(std::move(b)), c_(std::move(c)) {}

Expected<MembwProbe> MembwProbe::create(int64_t array_bytes) {
  if (array_bytes < kMinArrayBytes) {
    return invalid_argument("bandwidth probe arrays must be at least 1 MiB (got " + std::to_string(array_bytes) + " B)");
  }
  const int64_t n_elems = array_bytes / static_cast<int64_t>(sizeof(double));
  const auto alloc = [n_elems]() {
    void* p = ::operator new[](static_cast<size_t>(n_elems) * sizeof(double), kArrayAlignment, std::nothrow);
    return Array(static_cast<double*>(p));
  };
  Array a = alloc(), b = alloc(), c = alloc();
  if (!a || !b || !c) {
    return resource_exhausted("cannot allocate 3 x " + std::to_string(array_bytes >> 20) + " MiB for the bandwidth probe");
  }
  // Touch every page now so page faults are not timed (STREAM initialises before timing too).
  for (int64_t i = 0; i < n_elems; ++i) {
    a[i] = 1.0;
    b[i] = 2.0;
    c[i] = 0.0;
  }
  return MembwProbe(n_elems, std::move(a), std::move(b), std::move(c));
}

MembwResult MembwProbe::measure(ThreadPool& pool, int repetitions) {
  repetitions = std::max(1, repetitions);
  const double elem_bytes = sizeof(double);
  const double n = static_cast<double>(n_elems_);
  // Per-thread partial sums, stored so the compiler cannot drop the reads.
  std::vector<double> sums(static_cast<size_t>(pool.num_threads()), 0.0);
  const double* a = a_.get();
  double* b = b_.get();
  double* c = c_.get();

  MembwResult r;
  r.num_threads = pool.num_threads();
  r.array_bytes = array_bytes();
  r.repetitions = repetitions;
  r.read = timed_runs(pool, n_elems_, repetitions, n * elem_bytes, [&](int t, int64_t begin, int64_t end) {
    sums[static_cast<size_t>(t)] += read_sum(a, begin, end);
  });
  r.copy = timed_runs(pool, n_elems_, repetitions, 2 * n * elem_bytes, [&](int, int64_t begin, int64_t end) {
    copy_range(a, c, begin, end);
  });
  // Triad writes b (not a) so `a` keeps its values and the read/copy results stay meaningful.
  r.triad = timed_runs(pool, n_elems_, repetitions, 3 * n * elem_bytes, [&](int, int64_t begin, int64_t end) {
    triad_range(b, a, c, kTriadScalar, begin, end);
  });
  volatile double sink = 0;
  for (double s : sums) sink = sink + s;
  r.read_gb_per_s = r.read.best;
  r.copy_gb_per_s = r.copy.best;
  r.triad_gb_per_s = r.triad.best;
  return r;
}

}  // namespace frugal
