// Benchmarks ops::matmul on the Wan2.1-1.3B DiT's linears at 2 threads (issue #18, item 1):
//   768 tokens (256x256, 9 frames) against [1536 x 1536] (q, k, v, o), [8960 x 1536] (ffn.0) and
//   [1536 x 8960] (ffn.2), reported as GFLOP/s (2 * k * rows * tokens per matmul), for the weight
//   types a DiT runs in: F16 (the released files), Q8_0 (`frugal quantize ... q8_0`: VNNI int8),
//   BF16 and F32. "peak_GFLOP/s" is the machine's measured f32 FMA peak on the same threads
//   (engine/flops_probe), so the ratio is the fraction of peak the DiT's GEMMs reach. F16 runs
//   three ways: the packed FMA kernel (f16_), and where the CPU grants AMX-BF16 the tile kernel
//   (f16amx3_: bf16x3, what the DiT runs; f16amx1_: bf16x1), which also report
//   "amx_bf16_peak_GFLOP/s": a register-only TDPBF16PS loop on the same threads (bf16x3 needs three
//   tile products per multiply-add, so its own ceiling is a third of that). Q8_0 runs two ways: the
//   packed VNNI kernel (q8_0_) and, where the CPU grants AMX-INT8, the tile-Q8 kernel the DiT runs
//   (q8amxrow_: one int8 scale per weight row and token; q8amx256_: per 256-element group), which
//   report "amx_int8_peak_GOP/s" (a register-only TDPBSSD loop) and are validated bit for bit
//   against the scalar reference (ref::tile_q8_mul_mat) on every 97th row, all tokens.
//   "rms_rel_err": RMS error of sampled outputs against the f64 dot of the stored weights with the
//   f32 activations, over the RMS of that dot (what each path's roundings cost).
// Weights are packed as the model packs them (pack_for_kernels). Before timing, every 7th row of
// every 97th token is checked against the ref table's vec_dot on the same quantized activations
// (relative 1e-4 of sum |w_i * a_i|; bf16x1: 1e-2); a mismatch stops the benchmark with an error.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "engine/flops_probe.h"
#include "kernels/kernel_table.h"
#include "kernels/ref/ref_tile_q8.h"
#include "kernels/tile_q8_layout.h"
#include "ops/matmul.h"

namespace frugal {
namespace {

constexpr int64_t kTokens = 768;  // 256x256, 9 frames: 3 x 16 x 16 latent patches

struct Problem {
  int64_t k = 0;
  std::vector<uint8_t> weights;  // [n_rows, k] of dtype
  TensorView view;
  PackedWeights packed;
  std::vector<float> x;  // [kTokens, k]
};

Problem make_problem(DType dtype, int64_t n_rows, int64_t k, bool tiles = false) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const int64_t row_bytes = dtype_row_bytes(dtype, k);
  Problem p;
  p.k = k;
  p.weights.resize(static_cast<size_t>(row_bytes * n_rows));
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n_rows; ++r) {
    for (auto& v : row) v = dist(rng);
    ref.quantize_row[static_cast<size_t>(dtype)](row.data(), p.weights.data() + r * row_bytes, k);
  }
  p.view.dtype = dtype;
  p.view.ne = {k, n_rows, 1, 1};
  p.view.n_dims = 2;
  p.view.data = p.weights.data();
  pack_for_kernels(p.view, p.packed, tiles);
  p.x.resize(static_cast<size_t>(k * kTokens));
  for (auto& v : p.x) v = dist(rng);
  return p;
}

std::string validate(const Problem& p, const std::vector<float>& y, double rel) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  const DType w = p.view.dtype, a = activation_dtype(w);
  const int64_t k = p.k;
  std::vector<uint8_t> act(static_cast<size_t>(dtype_row_bytes(a, k)));
  std::vector<float> wf(static_cast<size_t>(k)), af(static_cast<size_t>(k));
  for (int64_t t = 0; t < kTokens; t += 97) {
    ref.quantize_row[static_cast<size_t>(a)](p.x.data() + t * k, act.data(), k);
    ref.dequantize_row[static_cast<size_t>(a)](act.data(), af.data(), k);
    for (int64_t r = 0; r < p.view.num_rows(); r += 7) {
      const double want = ref.vec_dot[static_cast<size_t>(w)](k, p.view.row(r), act.data());
      ref.dequantize_row[static_cast<size_t>(w)](p.view.row(r), wf.data(), k);
      double scale = 0.0;
      for (int64_t i = 0; i < k; ++i) scale += std::fabs(static_cast<double>(wf[i]) * af[i]);
      const double got = y[static_cast<size_t>(t * p.view.num_rows() + r)];
      if (std::fabs(got - want) > rel * scale + 1e-5) {
        return "row " + std::to_string(r) + " token " + std::to_string(t) + ": " + std::to_string(got) + " vs ref " +
               std::to_string(want);
      }
    }
  }
  return "";
}

// RMS error of every 97th token x 97th row against the f64 dot of the stored weights with the f32
// activations, over the RMS of that dot: what the activation (and tile-Q8 weight) rounding costs.
double rms_rel_error(const Problem& p, const std::vector<float>& y) {
  const KernelTable& ref = *kernels_for(Isa::kRef);
  const int64_t k = p.k, n_rows = p.view.num_rows();
  std::vector<float> wf(static_cast<size_t>(k));
  double err2 = 0.0, ref2 = 0.0;
  for (int64_t r = 0; r < n_rows; r += 97) {
    ref.dequantize_row[static_cast<size_t>(p.view.dtype)](p.view.row(r), wf.data(), k);
    for (int64_t t = 0; t < kTokens; t += 97) {
      double exact = 0.0;
      for (int64_t i = 0; i < k; ++i) exact += static_cast<double>(wf[i]) * p.x[static_cast<size_t>(t * k + i)];
      const double e = y[static_cast<size_t>(t * n_rows + r)] - exact;
      err2 += e * e;
      ref2 += exact * exact;
    }
  }
  return std::sqrt(err2 / ref2);
}

double peak_gflops(int threads) {
  static double cached[3] = {0, 0, 0};
  if (cached[threads] == 0) {
    ThreadPool pool(threads);
    cached[threads] = measure_peak_flops(pool).f32_flops_per_s * 1e-9;
  }
  return cached[threads];
}

// The AMX-BF16 tiles' register-only rate on `threads` threads, GFLOP/s (0: not granted).
double amx_bf16_peak_gflops(int threads) {
  const auto probe = kernels().amx_bf16_probe;
  if (probe == nullptr) return 0.0;
  ThreadPool pool(threads);
  constexpr int64_t kIters = 200000;  // ~50 ms per thread at 16 cycles per tile product
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<int64_t> flops(static_cast<size_t>(threads), 0);
    const auto start = std::chrono::steady_clock::now();
    pool.run_chunks(threads, [&](int64_t i) { flops[static_cast<size_t>(i)] = probe(kIters); });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double total = 0.0;
    for (const int64_t f : flops) total += static_cast<double>(f);
    best = std::max(best, total / s * 1e-9);
  }
  return best;
}

// The AMX-INT8 tiles' register-only rate on `threads` threads, int8 GOP/s (0: not granted).
double amx_int8_peak_gops(int threads) {
  const auto probe = kernels().amx_int8_probe;
  if (probe == nullptr) return 0.0;
  ThreadPool pool(threads);
  constexpr int64_t kIters = 200000;
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<int64_t> ops(static_cast<size_t>(threads), 0);
    const auto start = std::chrono::steady_clock::now();
    pool.run_chunks(threads, [&](int64_t i) { ops[static_cast<size_t>(i)] = probe(kIters); });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double total = 0.0;
    for (const int64_t f : ops) total += static_cast<double>(f);
    best = std::max(best, total / s * 1e-9);
  }
  return best;
}

// Tile-Q8 outputs of every 97th row, all tokens, against ref::tile_q8_mul_mat (bit for bit).
std::string validate_tiles(const Problem& p, const std::vector<float>& y) {
  const int64_t k = p.k, group = p.view.packed_tile_group, n_rows = p.view.num_rows();
  const int64_t kp = tile_q8::padded_k(k), padded = tile_q8::padded_tokens(kTokens);
  std::vector<int8_t> q(static_cast<size_t>(padded * kp), 0);
  std::vector<float> scales(static_cast<size_t>(padded * (kp / group)), 0.0f), want(static_cast<size_t>(kTokens * n_rows));
  tile_q8::quantize_acts(p.x.data(), k, group, 0, kTokens, q.data(), scales.data(), padded);
  for (int64_t r = 0; r < n_rows; r += 97) {
    ref::tile_q8_mul_mat(k, group, p.view.packed, r, r + 1, q.data(), scales.data(), padded, kTokens, want.data(), n_rows);
    for (int64_t t = 0; t < kTokens; ++t) {
      const size_t i = static_cast<size_t>(t * n_rows + r);
      if (y[i] != want[i]) {
        return "row " + std::to_string(r) + " token " + std::to_string(t) + ": " + std::to_string(y[i]) + " vs ref " +
               std::to_string(want[i]);
      }
    }
  }
  return "";
}

// Q8_0 weights in the tile-Q8 layout (what a Q8_0 DiT runs where AMX-INT8 is granted).
// The timed loop (the problem's matmul over kTokens tokens into y) and its "GFLOP/s" counter
// (2 FLOPs per multiply-add of the [n_rows, k] matrix).
void time_matmul(benchmark::State& state, const Problem& p, std::vector<float>& y, ThreadPool& pool,
                 MatmulScratch& scratch) {
  for (auto _ : state) {
    matmul(p.view, p.x.data(), kTokens, y.data(), pool, scratch);
    benchmark::DoNotOptimize(y.data());
  }
  const double flops = 2.0 * static_cast<double>(p.view.row_elems() * p.view.num_rows() * kTokens);
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}

void BM_DitLinearTiles(benchmark::State& state, int64_t n_rows, int64_t k, int64_t group) {
  const int threads = static_cast<int>(state.range(0));
  if (kernels().tile_q8_mul_mat == nullptr) {
    state.SkipWithError("this CPU/OS grants no AMX-INT8 tiles");
    return;
  }
  set_amx_q8_group(group);
  const Problem p = make_problem(DType::kQ8_0, n_rows, k, /*tiles=*/true);
  set_amx_q8_group(kAmxQ8PerRow);
  ThreadPool pool(threads);
  MatmulScratch scratch;
  std::vector<float> y(static_cast<size_t>(n_rows * kTokens));
  matmul(p.view, p.x.data(), kTokens, y.data(), pool, scratch);
  if (const std::string error = validate_tiles(p, y); !error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  time_matmul(state, p, y, pool, scratch);
  state.counters["amx_int8_peak_GOP/s"] = amx_int8_peak_gops(threads);
  state.counters["rms_rel_err"] = rms_rel_error(p, y);
}

void BM_DitLinear(benchmark::State& state, DType dtype, int64_t n_rows, int64_t k, AmxF16Mode amx) {
  const int threads = static_cast<int>(state.range(0));
  if (amx != AmxF16Mode::kOff && kernels().split_bf16 == nullptr) {
    state.SkipWithError("this CPU/OS grants no AMX-BF16 tiles");
    return;
  }
  const Problem p = make_problem(dtype, n_rows, k);
  ThreadPool pool(threads);
  MatmulScratch scratch;
  scratch.tile_f16 = amx != AmxF16Mode::kOff;
  set_amx_f16_mode(amx);
  std::vector<float> y(static_cast<size_t>(n_rows * kTokens));
  matmul(p.view, p.x.data(), kTokens, y.data(), pool, scratch);
  if (const std::string error = validate(p, y, amx == AmxF16Mode::kX1 ? 1e-2 : 1e-4); !error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  time_matmul(state, p, y, pool, scratch);
  state.counters["peak_GFLOP/s"] = peak_gflops(threads);
  state.counters["rms_rel_err"] = rms_rel_error(p, y);
  if (amx != AmxF16Mode::kOff) state.counters["amx_bf16_peak_GFLOP/s"] = amx_bf16_peak_gflops(threads);
  set_amx_f16_mode(AmxF16Mode::kAuto);
}

#define DIT_LINEARS(type, dtype, amx)                                                                                  \
  BENCHMARK_CAPTURE(BM_DitLinear, type##_qkvo_1536x1536, dtype, 1536, 1536, amx)->Arg(1)->Arg(2)->UseRealTime()->Unit(          \
      benchmark::kMillisecond);                                                                                     \
  BENCHMARK_CAPTURE(BM_DitLinear, type##_ffn0_8960x1536, dtype, 8960, 1536, amx)->Arg(1)->Arg(2)->UseRealTime()->Unit(          \
      benchmark::kMillisecond);                                                                                     \
  BENCHMARK_CAPTURE(BM_DitLinear, type##_ffn2_1536x8960, dtype, 1536, 8960, amx)->Arg(1)->Arg(2)->UseRealTime()->Unit(          \
      benchmark::kMillisecond);

DIT_LINEARS(f16, DType::kF16, AmxF16Mode::kOff)
DIT_LINEARS(f16amx3, DType::kF16, AmxF16Mode::kX3)
DIT_LINEARS(f16amx1, DType::kF16, AmxF16Mode::kX1)
DIT_LINEARS(q8_0, DType::kQ8_0, AmxF16Mode::kOff)

#define DIT_TILE_LINEARS(type, group)                                                                             \
  BENCHMARK_CAPTURE(BM_DitLinearTiles, type##_qkvo_1536x1536, 1536, 1536, group)->Arg(1)->Arg(2)->UseRealTime()->Unit( \
      benchmark::kMillisecond);                                                                                   \
  BENCHMARK_CAPTURE(BM_DitLinearTiles, type##_ffn0_8960x1536, 8960, 1536, group)->Arg(1)->Arg(2)->UseRealTime()->Unit( \
      benchmark::kMillisecond);                                                                                   \
  BENCHMARK_CAPTURE(BM_DitLinearTiles, type##_ffn2_1536x8960, 1536, 8960, group)->Arg(1)->Arg(2)->UseRealTime()->Unit( \
      benchmark::kMillisecond);

DIT_TILE_LINEARS(q8amxrow, kAmxQ8PerRow)
DIT_TILE_LINEARS(q8amx256, 256)
DIT_LINEARS(bf16, DType::kBF16, AmxF16Mode::kOff)
DIT_LINEARS(f32, DType::kF32, AmxF16Mode::kOff)

}  // namespace
}  // namespace frugal
BENCHMARK_MAIN();
