// Benchmarks trust::Moderator::check (normalisation + term and pattern matching, no guard model) on
// the shipped policy (data/trust/moderation-policy.json), per prompt size and on hostile inputs:
//   prompt/87, prompt/1044, prompt/1044000: a typical video prompt repeated (1 MB is the default
//   body limit); hostile_dollars, hostile_k: 1 MB of one symbol / letter (one huge word);
//   hostile_spaced: "k i k i ..." (one 500k-glyph word in the spaced view).
// Reports bytes per second; the design note (docs/design/trust-moderation.md) quotes the results.
#include <benchmark/benchmark.h>

#include <string>

#include "trust/moderator.h"

namespace frugal {
namespace {

const trust::Moderator& shipped_moderator() {
  static const trust::Moderator* moderator = [] {
    auto policy = trust::load_moderation_policy(std::string(FRUGAL_SOURCE_DIR) + "/data/trust/moderation-policy.json");
    if (!policy) std::abort();
    auto created = trust::Moderator::create(std::move(*policy), nullptr);
    if (!created) std::abort();
    return created->release();
  }();
  return *moderator;
}

void run(benchmark::State& state, const std::string& text) {
  const trust::Moderator& moderator = shipped_moderator();
  for (auto _ : state) {
    trust::ModerationVerdict verdict = moderator.check({text}, "bench");
    if (verdict.blocked()) state.SkipWithError("the benchmark prompt was blocked");
    benchmark::DoNotOptimize(verdict);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}

void BM_ModeratePrompt(benchmark::State& state) {
  const std::string sentence = "A cinematic shot of a lighthouse on a rocky coast at sunset, waves crashing, seagulls. ";
  std::string text;
  while (text.size() < static_cast<size_t>(state.range(0))) text += sentence;
  run(state, text);
}
BENCHMARK(BM_ModeratePrompt)->Arg(87)->Arg(1044)->Arg(1044000)->Unit(benchmark::kMillisecond);

void BM_ModerateHostile(benchmark::State& state, std::string text) { run(state, text); }
BENCHMARK_CAPTURE(BM_ModerateHostile, hostile_dollars, std::string(1000000, '$'))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ModerateHostile, hostile_k, std::string(1000000, 'k'))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ModerateHostile, hostile_spaced, [] {
  std::string text;
  for (int pair_idx = 0; pair_idx < 250000; ++pair_idx) text += "k i ";
  return text;
}())->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace frugal

BENCHMARK_MAIN();
