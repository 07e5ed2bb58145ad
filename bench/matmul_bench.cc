// Benchmarks ops::matmul on the kernels the model runs, at 1 and 2 threads:
//   BM_Gemv: one token (decode) against a weight matrix of >= 64 MiB (larger than the LLC), reported
//            as weight GB/s (bytes_per_second) — compare with the machine's STREAM bandwidth.
//   BM_Gemm: 128 tokens (prefill) against a 2048 x 2048 matrix, reported as GFLOP/s (2*k*rows*tokens).
//   BM_Batch8: 8 tokens (a batched decode step of 8 sequences) against the >= 64 MiB matrix, as
//            GFLOP/s: between memory- and compute-bound, where serving spends its decode steps.
// Weights are used as the model uses them: in the kernel table's packed layout where it has one
// (pack_for_kernels), else as stored.
// Each benchmark first checks every output against the ref table's vec_dot (same quantized inputs)
// and stops with an error if one is off by more than 1e-4 relative to sum |w_i * a_i|.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/kernel_table.h"
#include "ops/matmul.h"

namespace frugal {
namespace {

constexpr int64_t kK = 2048;          // n_embd of the 1B model
constexpr int64_t kDistinctRows = 64;  // distinct rows, tiled over the matrix (fast set-up)

struct Problem {
  std::vector<uint8_t> weights;  // [n_rows, kK] of dtype
  TensorView view;
  PackedWeights packed;  // owns view.packed, if any (its buffers stay put when Problem moves)
  std::vector<float> x;          // [n_tokens, kK]
};

Problem make_problem(DType dtype, int64_t n_rows, int64_t n_tokens) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int64_t row_bytes = dtype_row_bytes(dtype, kK);
  Problem p;
  p.weights.resize(static_cast<size_t>(row_bytes * n_rows));
  std::vector<float> row(kK);
  for (int64_t r = 0; r < kDistinctRows; ++r) {
    for (auto& v : row) v = dist(rng);
    ref.quantize_row[static_cast<size_t>(dtype)](row.data(), p.weights.data() + r * row_bytes, kK);
  }
  for (int64_t r = kDistinctRows; r < n_rows; ++r) {
    std::copy_n(p.weights.data() + (r % kDistinctRows) * row_bytes, row_bytes, p.weights.data() + r * row_bytes);
  }
  p.view.dtype = dtype;
  p.view.ne = {kK, n_rows, 1, 1};
  p.view.n_dims = 2;
  p.view.data = p.weights.data();
  pack_for_kernels(p.view, p.packed);
  p.x.resize(static_cast<size_t>(kK * n_tokens));
  for (auto& v : p.x) v = dist(rng);
  return p;
}

// Checks y against ref vec_dot of the ref-quantized activations; returns an error text or "".
std::string validate(const Problem& p, int64_t n_tokens, const std::vector<float>& y) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  const DType w = p.view.dtype, a = activation_dtype(w);
  const int64_t act_bytes = dtype_row_bytes(a, kK);
  std::vector<uint8_t> act(static_cast<size_t>(act_bytes));
  std::vector<float> wf(kK), af(kK);
  for (int64_t t = 0; t < n_tokens; ++t) {
    ref.quantize_row[static_cast<size_t>(a)](p.x.data() + t * kK, act.data(), kK);
    ref.dequantize_row[static_cast<size_t>(a)](act.data(), af.data(), kK);
    for (int64_t r = 0; r < p.view.num_rows(); r += 7) {
      const double want = ref.vec_dot[static_cast<size_t>(w)](kK, p.view.row(r), act.data());
      ref.dequantize_row[static_cast<size_t>(w)](p.view.row(r), wf.data(), kK);
      double scale = 0.0;
      for (int64_t i = 0; i < kK; ++i) scale += std::fabs(static_cast<double>(wf[i]) * af[i]);
      const double got = y[static_cast<size_t>(t * p.view.num_rows() + r)];
      if (std::fabs(got - want) > 1e-4 * scale + 1e-5) {
        return "row " + std::to_string(r) + " token " + std::to_string(t) + ": " + std::to_string(got) +
               " vs ref " + std::to_string(want);
      }
    }
  }
  return "";
}

void run_matmul(benchmark::State& state, DType dtype, int64_t n_rows, int64_t n_tokens) {
  const int threads = static_cast<int>(state.range(0));
  const Problem p = make_problem(dtype, n_rows, n_tokens);
  ThreadPool pool(threads);
  MatmulScratch scratch;
  std::vector<float> y(static_cast<size_t>(n_rows * n_tokens));
  matmul(p.view, p.x.data(), n_tokens, y.data(), pool, scratch);
  const std::string error = validate(p, n_tokens, y);
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  for (auto _ : state) {
    matmul(p.view, p.x.data(), n_tokens, y.data(), pool, scratch);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(state.iterations() * p.view.size_bytes());
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(kK * n_rows * n_tokens) *
                                                     static_cast<double>(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
}

// Rows so the matrix holds >= 64 MiB: decode streams it from DRAM, as a model's weights are.
int64_t gemv_rows(DType dtype) {
  return ((int64_t{64} << 20) / dtype_row_bytes(dtype, kK) + 63) / 64 * 64;
}

void BM_Gemv(benchmark::State& state, DType dtype) { run_matmul(state, dtype, gemv_rows(dtype), 1); }
void BM_Gemm(benchmark::State& state, DType dtype) { run_matmul(state, dtype, 2048, 128); }
void BM_Batch8(benchmark::State& state, DType dtype) { run_matmul(state, dtype, gemv_rows(dtype), 8); }

BENCHMARK_CAPTURE(BM_Gemv, q4_0, DType::kQ4_0)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemv, q8_0, DType::kQ8_0)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemv, q4_k, DType::kQ4_K)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemv, q6_k, DType::kQ6_K)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemv, f16, DType::kF16)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemm, q4_0, DType::kQ4_0)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemm, q8_0, DType::kQ8_0)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemm, q4_k, DType::kQ4_K)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemm, q6_k, DType::kQ6_K)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Gemm, f16, DType::kF16)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Batch8, q4_0, DType::kQ4_0)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Batch8, q4_k, DType::kQ4_K)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Batch8, q6_k, DType::kQ6_K)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace frugal
BENCHMARK_MAIN();
