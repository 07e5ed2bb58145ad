// Benchmarks the tokenizer with the real Llama-3 vocabulary (128,256 tokens, 280,147 merges):
// opening the GGUF + building the tokenizer, and encoding 10 KB of English. Each benchmark checks
// its result (token count, exact round trip) before reporting.
#include <benchmark/benchmark.h>

#include <string>

#include "gguf/gguf_reader.h"
#include "tokenizer/tokenizer.h"

namespace frugal {
namespace {

const std::string kVocabPath = std::string(FRUGAL_SOURCE_DIR) + "/tests/data/models/llama3-vocab.gguf";

std::string english_text(size_t bytes) {
  const std::string sentence =
      "The quick brown fox jumps over the lazy dog, and the committee's 2024 report (pages 12-48) "
      "says it isn't the first time. ";
  std::string text;
  while (text.size() < bytes) text += sentence;
  return text;
}

void BM_LoadLlama3Vocab(benchmark::State& state) {
  for (auto _ : state) {
    auto file = GgufFile::open(kVocabPath);
    auto tok = Tokenizer::from_gguf(*file);
    if (!tok || tok->n_vocab() != 128256) state.SkipWithError("vocab did not load");
    benchmark::DoNotOptimize(tok);
  }
}
BENCHMARK(BM_LoadLlama3Vocab)->Unit(benchmark::kMillisecond);

void BM_Encode10KbEnglish(benchmark::State& state) {
  auto file = GgufFile::open(kVocabPath);
  auto tok = Tokenizer::from_gguf(*file);
  const std::string text = english_text(10 * 1024);
  const auto ids = tok->encode(text, false, false);
  if (tok->decode(ids) != text) state.SkipWithError("round trip failed");
  for (auto _ : state) benchmark::DoNotOptimize(tok->encode(text, false, false));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(ids.size());
}
BENCHMARK(BM_Encode10KbEnglish)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace frugal

BENCHMARK_MAIN();
