// Benchmarks ops::conv3d on the Wan2.1 VAE decoder's convolution shapes (issue #18, the VAE bar) in
// each arithmetic: the f32 FMA path (im2col + ops::matmul, `off`) and, where the CPU grants
// AMX-BF16, the bf16 tile path (`x3`: three tile products, the default; `x2`, `x1`). Shapes (one
// output frame each, causal 3x3x3 unless named): 384 -> 384 at 32x32 (the middle block and level 0),
// 192 -> 192 at 64x64 and 96 -> 96 at 128x128 (levels 2, 3 at a quarter of the 256x256 frame:
// the per-pixel work is what counts), the 2-D 3x3 384 -> 192 after a x2 nearest upsample of 32x32,
// and the 96 -> 3 head. Reported as GFLOP/s (2 * k * c_out * pixels per call).
// Before timing, each tile mode's output is checked against the FMA path (max |d| / max |ref|:
// x3 1e-5, x2 / x1 2e-2); a mismatch stops the benchmark with an error.
//   build/conv_bench --benchmark_min_time=0.5        (2 threads; FRUGAL_ISA as usual)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "ops/conv.h"

namespace frugal {
namespace {

struct Shape {
  const char* name;
  int64_t c_in, c_out, kt, ks, height, width, upsample;
};

const Shape kShapes[] = {
    {"c384_32x32_3x3x3", 384, 384, 3, 3, 32, 32, 1},
    {"c192_64x64_3x3x3", 192, 192, 3, 3, 64, 64, 1},
    {"c96_128x128_3x3x3", 96, 96, 3, 3, 128, 128, 1},
    {"up2_c384to192_3x3", 384, 192, 1, 3, 32, 32, 2},
    {"head_c96to3_128x128", 96, 3, 3, 3, 128, 128, 1},
};

struct Problem {
  Conv3dParams p;
  int64_t frames = 0, height = 0, width = 0;
  std::vector<float> x, w, bias;
  TensorView view;
  ConvTileWeights tiles;
  int64_t out_elems = 0;
  double flops = 0;
};

Problem make_problem(const Shape& s, ConvTileMode mode, ThreadPool& pool) {
  Problem pr;
  pr.p.c_in = s.c_in;
  pr.p.c_out = s.c_out;
  pr.p.kernel_t = s.kt;
  pr.p.kernel_h = pr.p.kernel_w = s.ks;
  pr.p.pad_top = pr.p.pad_bottom = pr.p.pad_left = pr.p.pad_right = s.ks / 2;
  pr.p.upsample = s.upsample;
  pr.frames = s.kt;  // one output frame
  pr.height = s.height;
  pr.width = s.width;
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  pr.x.resize(static_cast<size_t>(s.c_in * pr.frames * s.height * s.width));
  for (auto& v : pr.x) v = dist(rng);
  pr.w.resize(static_cast<size_t>(s.c_out * pr.p.k()));
  const float scale = 1.0f / std::sqrt(static_cast<float>(pr.p.k()));
  for (auto& v : pr.w) v = dist(rng) * scale;
  pr.bias.resize(static_cast<size_t>(s.c_out));
  for (auto& v : pr.bias) v = dist(rng);
  pr.view.dtype = DType::kF32;
  pr.view.n_dims = 2;
  pr.view.ne = {pr.p.k(), pr.p.c_out, 1, 1};
  pr.view.data = pr.w.data();
  pr.tiles = pack_conv_tiles(pr.view, pr.p, mode, &pool);
  const int64_t pixels = s.height * s.upsample * s.width * s.upsample;
  pr.out_elems = s.c_out * pixels;
  pr.flops = 2.0 * static_cast<double>(pr.p.k()) * static_cast<double>(s.c_out * pixels);
  return pr;
}

void run(const Problem& pr, ThreadPool& pool, ConvScratch& scratch, float* out) {
  conv3d(pr.x.data(), pr.frames, pr.height, pr.width, 0, 0, pr.p, pr.view, pr.bias.data(), out, pool, scratch,
         pr.tiles.empty() ? nullptr : &pr.tiles);
}

void BM_Conv(benchmark::State& state, const Shape& shape, ConvTileMode mode) {
  ThreadPool pool(static_cast<int>(state.range(0)));
  const ConvTileMode saved = conv_tile_mode();
  set_conv_tile_mode(mode);
  if (mode != ConvTileMode::kOff && conv_tile_mode_in_effect() == ConvTileMode::kOff) {
    set_conv_tile_mode(saved);
    state.SkipWithError("this CPU/OS grants no AMX-BF16 tiles");
    return;
  }
  const Problem pr = make_problem(shape, mode, pool);
  ConvScratch scratch;
  std::vector<float> out(static_cast<size_t>(pr.out_elems));
  if (mode != ConvTileMode::kOff) {  // validate against the FMA path before timing
    std::vector<float> ref(out.size());
    set_conv_tile_mode(ConvTileMode::kOff);
    run(pr, pool, scratch, ref.data());
    set_conv_tile_mode(mode);
    run(pr, pool, scratch, out.data());
    double max_diff = 0.0, max_ref = 1e-30;
    for (size_t i = 0; i < ref.size(); ++i) {
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(out[i]) - ref[i]));
      max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[i])));
    }
    const double tol = mode == ConvTileMode::kX3 ? 1e-5 : 2e-2;
    state.counters["max_rel_err"] = max_diff / max_ref;
    if (max_diff / max_ref > tol) {
      set_conv_tile_mode(saved);
      state.SkipWithError(("tile output differs from the FMA path: " + std::to_string(max_diff / max_ref)).c_str());
      return;
    }
  }
  for (auto _ : state) {
    run(pr, pool, scratch, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  set_conv_tile_mode(saved);
  state.counters["GFLOP/s"] = benchmark::Counter(pr.flops * 1e-9 * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
}

int register_all() {
  for (const Shape& s : kShapes) {
    for (ConvTileMode mode : {ConvTileMode::kOff, ConvTileMode::kX3, ConvTileMode::kX2, ConvTileMode::kX1}) {
      const std::string name = std::string("conv/") + s.name + "/" + conv_tile_mode_name(mode);
      benchmark::RegisterBenchmark(name.c_str(), BM_Conv, s, mode)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
    }
  }
  return 0;
}
const int kRegistered = register_all();

}  // namespace
}  // namespace frugal

BENCHMARK_MAIN();
