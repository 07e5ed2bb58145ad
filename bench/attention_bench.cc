// Benchmarks ops::attention (causal GQA over the f32 K/V cache, rows through slot tables) at the
// shapes the engine runs, 1 and 2 threads; reported as (query head, position) pairs per second:
//   verify7_kjv:   7 tokens of one sequence at positions 120..126 (a speculative verification of
//                  the bundled kjv-target: 8 query / 4 K/V heads of 32)
//   decode_1b:     1 token at position 1024 (a Llama-3.2-1B-shaped model: 32 / 8 heads of 64)
//   decode32_1b:   32 sequences, 1 token each at position 256 (a batched decode step)
//   prefill64_1b:  a 64-token prefill chunk at positions 448..511
// The K/V rows of a sequence are scattered through the pool the way the paged cache lays out
// 16-token blocks. Uses only attention()'s public interface, so the same file builds against
// earlier commits for before/after comparisons (docs/PERFORMANCE.md).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "ops/attention.h"

namespace frugal {
namespace {

struct Case {
  int64_t n_head, n_head_kv, head_dim;
  int64_t n_seqs, tokens_per_seq, first_position;
};

void BM_Attention(benchmark::State& state, Case c) {
  const int threads = static_cast<int>(state.range(0));
  const int64_t history = c.first_position + c.tokens_per_seq;
  const int64_t blocks_per_seq = (history + 15) / 16;
  const int64_t n_rows = c.n_seqs * blocks_per_seq * 16;
  const int64_t row_stride = c.n_head_kv * c.head_dim;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> keys(static_cast<size_t>(n_rows * row_stride)), values(keys.size());
  for (float& x : keys) x = dist(rng);
  for (float& x : values) x = dist(rng);
  // Block b of sequence s lives in pool block (b * n_seqs + s) * 7 % total: scattered, no reuse.
  const int64_t total_blocks = c.n_seqs * blocks_per_seq;
  std::vector<std::vector<int32_t>> slots(static_cast<size_t>(c.n_seqs));
  std::vector<AttentionSeq> seqs;
  for (int64_t s = 0; s < c.n_seqs; ++s) {
    for (int64_t p = 0; p < history; ++p) {
      const int64_t block = ((p / 16) * c.n_seqs + s) * 7 % total_blocks;
      slots[static_cast<size_t>(s)].push_back(static_cast<int32_t>(block * 16 + p % 16));
    }
  }
  for (int64_t s = 0; s < c.n_seqs; ++s) seqs.push_back({slots[static_cast<size_t>(s)].data(), history});
  std::vector<int32_t> positions, seq_of_token;
  for (int64_t s = 0; s < c.n_seqs; ++s) {
    for (int64_t t = 0; t < c.tokens_per_seq; ++t) {
      positions.push_back(static_cast<int32_t>(c.first_position + t));
      seq_of_token.push_back(static_cast<int32_t>(s));
    }
  }
  const auto n_tokens = static_cast<int64_t>(positions.size());
  std::vector<float> q(static_cast<size_t>(n_tokens * c.n_head * c.head_dim)), out(q.size());
  for (float& x : q) x = dist(rng);
  const KvRows kv{keys.data(), values.data(), row_stride};
  AttentionShape shape;
  shape.n_head = c.n_head;
  shape.n_head_kv = c.n_head_kv;
  shape.head_dim = c.head_dim;
  shape.scale = 0.125f;
  ThreadPool pool(threads);
  for (auto _ : state) {
    attention(q.data(), positions.data(), seq_of_token.data(), n_tokens, kv, seqs.data(), shape, out.data(), pool);
    benchmark::DoNotOptimize(out.data());
  }
  int64_t pairs = 0;
  for (int32_t p : positions) pairs += (p + 1) * c.n_head;
  state.SetItemsProcessed(state.iterations() * pairs);
}

BENCHMARK_CAPTURE(BM_Attention, verify7_kjv, Case{8, 4, 32, 1, 7, 120})->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Attention, decode_1b, Case{32, 8, 64, 1, 1, 1024})->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Attention, decode32_1b, Case{32, 8, 64, 32, 1, 256})->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Attention, prefill64_1b, Case{32, 8, 64, 1, 64, 448})->Arg(2)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace frugal

BENCHMARK_MAIN();
