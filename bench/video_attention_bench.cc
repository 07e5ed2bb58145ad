// Benchmarks the video DiT's self-attention (ops/attention_full_3d) dense against its sliding-tile
// and block-sparse modes at >= 16K tokens, on 2 threads:
//   grid 16 x 32 x 32 = 16384 tokens (a 61-frame 512x512 latent after the 1x2x2 patch); 2 heads of
//   128 (the 1.3B model's head_dim; attention time is linear in the head count, so the ratios hold
//   for its 12 heads) and 4 heads of 32 (the bundled wan-shapes model's); tile 4x4x4 (64 tokens,
//   256 tiles);
//   sliding-tile windows 3x3x3 tiles; block-sparse keep 0.25 and 0.125; each sparse mode also with
//   rest = pooled (the unattended tiles as one mean row each, ops/attention_tiled.h).
// Counters: tile_fraction (pairs attended / dense), tokens. Divide the dense time by a mode's time
// for its speed-up (docs/PERFORMANCE.md, "Video attention modes"). Before timing, each mode is
// checked on a small grid: with its window / top-k covering every tile it must equal dense bit for
// bit (otherwise the benchmark aborts; a fast wrong answer is not a result).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "ops/attention_tiled.h"

namespace frugal {
namespace {

std::vector<float> random_rows(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Every mode covering every tile must give dense attention's bits on a small grid.
void validate_or_abort() {
  const TokenGrid3 grid{4, 6, 5};
  const AttentionShape shape{2, 2, 32, 0.17f};
  const size_t n = static_cast<size_t>(grid.n_tokens() * shape.n_head * shape.head_dim);
  const auto q = random_rows(n, 1), k = random_rows(n, 2), v = random_rows(n, 3);
  ThreadPool pool(2);
  TiledAttentionScratch scratch;
  std::vector<float> dense(n), other(n);
  TiledAttentionConfig config;
  config.tile = {2, 2, 2};
  attention_full_3d(q.data(), k.data(), v.data(), grid, shape, config, dense.data(), pool, scratch, nullptr);
  config.mode = AttentionMode::kSlidingTile;
  config.window = {2, 3, 3};
  attention_full_3d(q.data(), k.data(), v.data(), grid, shape, config, other.data(), pool, scratch, nullptr);
  const bool sliding_ok = std::memcmp(dense.data(), other.data(), n * sizeof(float)) == 0;
  config.mode = AttentionMode::kBlockSparse;
  config.keep = 1.0;
  attention_full_3d(q.data(), k.data(), v.data(), grid, shape, config, other.data(), pool, scratch, nullptr);
  const bool sparse_ok = std::memcmp(dense.data(), other.data(), n * sizeof(float)) == 0;
  config.rest = AttentionRest::kPooled;
  attention_full_3d(q.data(), k.data(), v.data(), grid, shape, config, other.data(), pool, scratch, nullptr);
  bool pooled_ok = std::memcmp(dense.data(), other.data(), n * sizeof(float)) == 0;
  config.mode = AttentionMode::kSlidingTile;
  attention_full_3d(q.data(), k.data(), v.data(), grid, shape, config, other.data(), pool, scratch, nullptr);
  pooled_ok = pooled_ok && std::memcmp(dense.data(), other.data(), n * sizeof(float)) == 0;
  if (!sliding_ok || !sparse_ok || !pooled_ok) {
    std::fprintf(stderr, "video_attention_bench: validation failed (sliding %d, sparse %d, pooled %d)\n", sliding_ok,
                 sparse_ok, pooled_ok);
    std::abort();
  }
}

void BM_VideoAttention(benchmark::State& state, AttentionMode mode, double keep, int64_t heads, int64_t head_dim,
                       AttentionRest rest = AttentionRest::kDrop) {
  static const bool validated = (validate_or_abort(), true);
  (void)validated;
  const TokenGrid3 grid{16, 32, 32};
  const AttentionShape shape{heads, heads, head_dim, static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)))};
  const size_t n = static_cast<size_t>(grid.n_tokens() * shape.n_head * shape.head_dim);
  const auto q = random_rows(n, 4), k = random_rows(n, 5), v = random_rows(n, 6);
  std::vector<float> out(n);
  ThreadPool pool(2);
  TiledAttentionScratch scratch;
  TiledAttentionConfig config;
  config.mode = mode;
  config.tile = {4, 4, 4};
  config.window = {3, 3, 3};
  config.keep = keep;
  config.rest = rest;
  TiledAttentionStats stats;
  for (auto _ : state) {
    attention_full_3d(q.data(), k.data(), v.data(), grid, shape, config, out.data(), pool, scratch, &stats);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["tile_fraction"] = stats.fraction();
  state.counters["pooled_fraction"] =
      stats.tile_pairs_total > 0 ? static_cast<double>(stats.pooled_tile_pairs) / static_cast<double>(stats.tile_pairs_total) : 0.0;
  state.counters["tokens"] = static_cast<double>(grid.n_tokens());
}

// The 1.3B model's heads (head_dim 128; 2 of its 12 heads).
BENCHMARK_CAPTURE(BM_VideoAttention, dense_16k_hd128, AttentionMode::kDense, 1.0, 2, 128)
    ->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_VideoAttention, sliding_tile_3x3x3_16k_hd128, AttentionMode::kSlidingTile, 1.0, 2, 128)
    ->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_VideoAttention, block_sparse_keep25_16k_hd128, AttentionMode::kBlockSparse, 0.25, 2, 128)
    ->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_VideoAttention, block_sparse_keep12_16k_hd128, AttentionMode::kBlockSparse, 0.125, 2, 128)
    ->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_VideoAttention, block_sparse_pooled_keep25_16k_hd128, AttentionMode::kBlockSparse, 0.25, 2, 128,
                  AttentionRest::kPooled)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_VideoAttention, sliding_tile_pooled_3x3x3_16k_hd128, AttentionMode::kSlidingTile, 1.0, 2, 128,
                  AttentionRest::kPooled)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
// The bundled wan-shapes model's heads (4 of 32).
BENCHMARK_CAPTURE(BM_VideoAttention, dense_16k_hd32, AttentionMode::kDense, 1.0, 4, 32)
    ->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_VideoAttention, sliding_tile_3x3x3_16k_hd32, AttentionMode::kSlidingTile, 1.0, 4, 32)
    ->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_VideoAttention, block_sparse_keep25_16k_hd32, AttentionMode::kBlockSparse, 0.25, 4, 32)
    ->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_VideoAttention, block_sparse_pooled_keep25_16k_hd32, AttentionMode::kBlockSparse, 0.25, 4, 32,
                  AttentionRest::kPooled)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_VideoAttention, sliding_tile_pooled_3x3x3_16k_hd32, AttentionMode::kSlidingTile, 1.0, 4, 32,
                  AttentionRest::kPooled)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace frugal
BENCHMARK_MAIN();
