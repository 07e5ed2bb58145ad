// Generation loop tests on the tiny reference model: limits, stop strings, seeds, prefix reuse.
#include "engine/generate.h"

#include <gtest/gtest.h>

#include "common/test_data.h"

namespace frugal {
namespace {

struct Fixture {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
};

Fixture load_small() {
  Fixture f;
  auto model = Model::load(testing::data_path("models/small-q8_0.gguf"));
  CHECK(model.has_value(), "small-q8_0 missing");
  f.model = std::move(*model);
  auto tok = Tokenizer::from_gguf(f.model->file());
  CHECK(tok.has_value(), "tokenizer");
  f.tokenizer = std::make_unique<Tokenizer>(std::move(*tok));
  return f;
}

GenerateRequest request_for(const Fixture& f, const std::string& text, int64_t max_tokens) {
  GenerateRequest r;
  r.prompt = f.tokenizer->encode(text, true, false);
  r.max_tokens = max_tokens;
  r.ignore_eos = true;
  r.sampling.temperature = 0.0f;
  return r;
}

TEST(Generate, PromptLongerThanContextIsRejected) {
  Fixture f = load_small();
  SessionOptions options;
  options.n_ctx = 16;
  Session session(*f.model, options);
  GenerateRequest r = request_for(f, "Licensed under the Apache License, Version 2.0 (the License)", 4);
  ASSERT_GE(r.prompt.size(), 16u);
  auto result = generate(session, *f.tokenizer, r);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.error().message().find("context"), std::string::npos);
}

TEST(Generate, StopsAtMaxTokensAndAtContextEnd) {
  Fixture f = load_small();
  SessionOptions options;
  options.n_ctx = 24;
  Session session(*f.model, options);
  auto r = request_for(f, "The quick brown fox", 5);
  auto result = generate(session, *f.tokenizer, r);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->tokens.size(), 5u);
  EXPECT_EQ(result->finish, FinishReason::kLength);

  Session session2(*f.model, options);
  r.max_tokens = -1;
  result = generate(session2, *f.tokenizer, r);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->finish, FinishReason::kContextFull);
  // Every position holds a token, and the last sampled token needs no position of its own.
  EXPECT_EQ(static_cast<int64_t>(r.prompt.size() + result->tokens.size()), 24 + 1);
}

TEST(Generate, GreedyIsDeterministicAndPrefixReuseChangesNothing) {
  Fixture f = load_small();
  Session session(*f.model, {});
  auto r = request_for(f, "Once upon a time", 12);
  auto first = generate(session, *f.tokenizer, r);
  ASSERT_TRUE(first.has_value());
  // Same session: the prompt is found in the history and reused.
  auto second = generate(session, *f.tokenizer, r);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->n_prompt_cached, static_cast<int64_t>(r.prompt.size()) - 1);
  EXPECT_EQ(first->tokens, second->tokens);
  EXPECT_EQ(first->text, second->text);
  EXPECT_EQ(first->text, f.tokenizer->decode(first->tokens));
}

TEST(Generate, SameSeedSameOutputDifferentSeedDifferentOutput) {
  Fixture f = load_small();
  auto run = [&](uint64_t seed) {
    Session session(*f.model, {});
    auto r = request_for(f, "It counted", 24);
    r.sampling.temperature = 1.0f;
    r.sampling.top_k = 0;
    r.sampling.top_p = 1.0f;
    r.sampling.min_p = 0.0f;
    r.sampling.seed = seed;
    auto result = generate(session, *f.tokenizer, r);
    CHECK(result.has_value(), "generate");
    return result->tokens;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(Generate, StopStringEndsGenerationAndIsNotEmitted) {
  Fixture f = load_small();
  Session session(*f.model, {});
  auto r = request_for(f, "The quick brown fox", 16);
  auto full = generate(session, *f.tokenizer, r);
  ASSERT_TRUE(full.has_value());
  ASSERT_GE(full->text.size(), 6u);
  // Stop on a piece of the text the model is known to produce.
  const std::string stop = full->text.substr(3, 3);
  r.stop = {stop};
  Session session2(*f.model, {});
  std::string streamed;
  auto stopped = generate(session2, *f.tokenizer, r, [&](std::string_view t) {
    streamed += t;
    return true;
  });
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(stopped->finish, FinishReason::kStop);
  EXPECT_EQ(stopped->text, full->text.substr(0, full->text.find(stop)));
  EXPECT_EQ(streamed, stopped->text);
}

TEST(Generate, InvalidRequestsAreRejected) {
  Fixture f = load_small();
  Session session(*f.model, {});
  GenerateRequest empty;
  EXPECT_EQ(generate(session, *f.tokenizer, empty).error().code(), StatusCode::kInvalidArgument);
  auto r = request_for(f, "hi", 4);
  r.stop = std::vector<std::string>(17, "x");
  EXPECT_EQ(generate(session, *f.tokenizer, r).error().code(), StatusCode::kInvalidArgument);
  r = request_for(f, "hi", 4);
  r.sampling.temperature = -1.0f;
  EXPECT_EQ(generate(session, *f.tokenizer, r).error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace frugal
