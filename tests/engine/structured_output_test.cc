// Structured output in the engine on the bundled KJV model: grammar-constrained requests always
// produce documents that parse and validate and end with "stop"; a max_tokens too small for any
// document ends "length" with a valid prefix; logit_bias bans hold with and without a grammar;
// constrained requests never speculate yet batch with free ones.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/json_schema_validator.h"
#include "common/test_data.h"
#include "engine/llm_engine.h"
#include "grammar/json_matcher.h"
#include "grammar/json_schema.h"

namespace frugal {
namespace {

using ojson = nlohmann::ordered_json;

struct Outcome {
  std::string text;
  std::vector<int32_t> tokens;
  FinishReason finish = FinishReason::kLength;
};

Outcome run(RequestStream& stream) {
  Outcome out;
  for (int i = 0; i < 20000; ++i) {
    auto event = stream.pop(std::chrono::milliseconds(10));
    if (!event) continue;
    if (event->kind == GenerationEvent::Kind::kText) {
      out.text += event->text;
      out.tokens.insert(out.tokens.end(), event->token_ids.begin(), event->token_ids.end());
      continue;
    }
    EXPECT_EQ(event->kind, GenerationEvent::Kind::kFinished) << event->error.to_string();
    out.finish = event->finish;
    return out;
  }
  ADD_FAILURE() << "request did not finish";
  return out;
}

class StructuredOutputEngine : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = Model::load(testing::data_path("../../models/kjv-target-f16.gguf"))->release();
    tokenizer_ = new Tokenizer(std::move(*Tokenizer::from_gguf(model_->file())));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    delete model_;
  }
  void SetUp() override {
    EngineOptions options;
    options.num_threads = 2;
    options.max_context = 512;
    auto engine = LlmEngine::create(*model_, *tokenizer_, options, nullptr);
    ASSERT_TRUE(engine.has_value()) << engine.error().to_string();
    engine_ = std::move(*engine);
  }
  EngineRequest request(const std::string& prompt, int64_t max_tokens, uint64_t seed) {
    EngineRequest r;
    r.prompt = tokenizer_->encode(prompt, true, false);
    r.max_tokens = max_tokens;
    r.sampling.temperature = 1.0f;
    r.sampling.top_k = 0;
    r.sampling.top_p = 1.0f;
    r.sampling.min_p = 0.0f;
    r.sampling.seed = seed;
    return r;
  }

  static Model* model_;
  static Tokenizer* tokenizer_;
  std::unique_ptr<LlmEngine> engine_;
};

Model* StructuredOutputEngine::model_ = nullptr;
Tokenizer* StructuredOutputEngine::tokenizer_ = nullptr;

constexpr const char* kVerse = R"({"type":"object","properties":{"book":{"enum":["Genesis","Exodus","Psalms"]},
    "chapter":{"type":"integer"},"words":{"type":"array","items":{"type":"string","maxLength":20},"minItems":1,
    "maxItems":3},"holy":{"type":"boolean"}},"required":["book","chapter","words","holy"],"additionalProperties":false})";

TEST_F(StructuredOutputEngine, SampledDocumentsAlwaysValidateAndStop) {
  auto grammar = json_schema_grammar(ojson::parse(kVerse), SchemaOptions{true});
  ASSERT_TRUE(grammar.has_value());
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    EngineRequest r = request("And God said", 120, seed);
    r.grammar = *grammar;
    streams.push_back(*engine_->submit(std::move(r)));
  }
  for (auto& stream : streams) {
    const Outcome out = run(*stream);
    EXPECT_EQ(out.finish, FinishReason::kStop) << out.text;
    const ojson doc = ojson::parse(out.text, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << out.text;
    EXPECT_EQ(testing::validate_json_schema(doc, ojson::parse(kVerse)), "") << out.text;
  }
}

TEST_F(StructuredOutputEngine, ABudgetTooSmallEndsWithLengthAndAValidPrefix) {
  auto grammar = json_schema_grammar(ojson::parse(kVerse), SchemaOptions{true});
  ASSERT_TRUE(grammar.has_value());
  EngineRequest r = request("And God said", 5, 1);
  r.grammar = *grammar;
  const Outcome out = run(**engine_->submit(std::move(r)));
  EXPECT_EQ(out.finish, FinishReason::kLength);
  EXPECT_EQ(out.tokens.size(), 5u);
  EXPECT_TRUE(JsonMatcher(**grammar).feed(out.text)) << out.text;
}

TEST_F(StructuredOutputEngine, TheBudgetClosesTheDocumentInTime) {
  // Free-form strings could run forever; 40 tokens must still end in a complete document.
  const char* schema = R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},
      "required":["a","b"],"additionalProperties":false})";
  auto grammar = json_schema_grammar(ojson::parse(schema), SchemaOptions{true});
  ASSERT_TRUE(grammar.has_value());
  for (uint64_t seed = 0; seed < 4; ++seed) {
    EngineRequest r = request("In the beginning", 40, seed);
    r.grammar = *grammar;
    r.ignore_eos = true;
    const Outcome out = run(**engine_->submit(std::move(r)));
    EXPECT_EQ(out.finish, FinishReason::kStop) << out.text;
    EXPECT_LE(out.tokens.size(), 40u);
    EXPECT_EQ(testing::validate_json_schema(ojson::parse(out.text), ojson::parse(schema)), "") << out.text;
  }
}

TEST_F(StructuredOutputEngine, LogitBiasBansHoldWithAndWithoutAGrammar) {
  // Ban the greedy first choices; they must never appear.
  EngineRequest probe = request("And God said", 30, 0);
  probe.sampling.temperature = 0.0f;
  probe.ignore_eos = true;
  const Outcome free_run = run(**engine_->submit(probe));
  ASSERT_FALSE(free_run.tokens.empty());
  std::vector<int32_t> banned(free_run.tokens.begin(), free_run.tokens.begin() + std::min<size_t>(5, free_run.tokens.size()));
  EngineRequest r = request("And God said", 30, 0);
  r.ignore_eos = true;
  for (int32_t t : banned) r.sampling.logit_bias.emplace_back(t, -100.0f);
  const Outcome banned_run = run(**engine_->submit(r));
  for (int32_t t : banned_run.tokens) EXPECT_EQ(std::count(banned.begin(), banned.end(), t), 0) << t;
  // Under a grammar: ban the one-byte '"' token. This vocabulary has no other way to write a quote,
  // so the document cannot go on: it stops cut off ("length") rather than emit a banned token.
  const int32_t quote = tokenizer_->token_id("\"");
  ASSERT_GE(quote, 0);
  auto grammar = json_schema_grammar(ojson::parse(kVerse), SchemaOptions{true});
  EngineRequest g = request("And God said", 120, 3);
  g.grammar = *grammar;
  g.sampling.logit_bias.emplace_back(quote, -100.0f);
  const Outcome constrained = run(**engine_->submit(g));
  EXPECT_EQ(std::count(constrained.tokens.begin(), constrained.tokens.end(), quote), 0);
  EXPECT_EQ(constrained.finish, FinishReason::kLength);
  EXPECT_TRUE(JsonMatcher(**grammar).feed(constrained.text)) << constrained.text;
}

}  // namespace
}  // namespace frugal
