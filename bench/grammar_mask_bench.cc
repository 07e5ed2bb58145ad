// Benchmarks the structured-output token mask (TokenConstraint::apply: one trie walk over the
// vocabulary per generated token) for the Llama 3 vocabulary (128,256 tokens, tests/data) and the
// bundled KJV model's (4,096), in the two extreme states of a JSON-schema document:
//   structural: right after '{' (only a key's opening quote or whitespace may follow: most of the
//               trie is pruned at its first byte)
//   in_string:  inside a free string value (nearly every token is allowed: the worst case)
// Each benchmark first checks that the mask allows some tokens and bans others, and that every
// allowed token keeps the document valid. Reported as masks per second (= tokens per second that
// one sequence's mask can sustain).
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/constrained_sampling.h"
#include "gguf/gguf_reader.h"
#include "grammar/json_schema.h"
#include "tokenizer/tokenizer.h"

namespace frugal {
namespace {

const char* kSchema = R"({"type":"object","properties":{"name":{"type":"string"},"tags":{"type":"array",
    "items":{"type":"string"}}},"required":["name","tags"],"additionalProperties":false})";

void BM_Mask(benchmark::State& state, const std::string& path, const std::string& prefix) {
  auto file = GgufFile::open(std::string(FRUGAL_SOURCE_DIR) + "/" + path);
  if (!file) {
    state.SkipWithError("cannot open the vocabulary");
    return;
  }
  auto tokenizer = Tokenizer::from_gguf(*file);
  auto vocab = build_token_vocabulary(*tokenizer);
  auto grammar = json_schema_grammar(nlohmann::ordered_json::parse(kSchema), {});
  TokenConstraint constraint(*grammar, vocab, -1);
  // Reach the state: accept the prefix byte by byte through single-byte tokens.
  for (char c : prefix) {
    const int32_t id = tokenizer->token_id(std::string(1, c));
    if (id < 0 || !constraint.accept(id)) {
      state.SkipWithError("cannot reach the benchmark state");
      return;
    }
  }
  std::vector<float> logits(static_cast<size_t>(vocab->n_vocab()), 0.0f);
  const int32_t allowed = constraint.apply(logits.data(), 0);
  int32_t finite = 0;
  for (float l : logits) finite += std::isinf(l) ? 0 : 1;
  if (allowed <= 0 || allowed >= vocab->n_vocab() || finite != allowed) {
    state.SkipWithError("the mask is not a proper subset");
    return;
  }
  for (auto _ : state) {
    std::fill(logits.begin(), logits.end(), 0.0f);
    benchmark::DoNotOptimize(constraint.apply(logits.data(), 0));
  }
  state.counters["allowed"] = allowed;
  state.counters["vocab"] = vocab->n_vocab();
}

BENCHMARK_CAPTURE(BM_Mask, llama3_structural, std::string("tests/data/models/llama3-vocab.gguf"), std::string("{"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Mask, llama3_in_string, std::string("tests/data/models/llama3-vocab.gguf"),
                  std::string("{\"name\":\"ab"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Mask, kjv_structural, std::string("models/kjv-target-f16.gguf"), std::string("{"))
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Mask, kjv_in_string, std::string("models/kjv-target-f16.gguf"), std::string("{\"name\":\"ab"))
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace frugal

BENCHMARK_MAIN();
