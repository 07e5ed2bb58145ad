// The continuous-batching engine end to end on the small reference model: batch invariance,
// prefix caching on/off, preemption under a tiny KV budget, queue limits, cancellation, shutdown.
#include "engine/llm_engine.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/test_data.h"
#include "engine/generate.h"

namespace frugal {
namespace {

struct Collected {
  std::string text;
  std::vector<int32_t> tokens;
  std::optional<GenerationEvent> final_event;
  bool error = false;
};

Collected collect(RequestStream& stream) {
  Collected c;
  for (int i = 0; i < 20000; ++i) {  // bounded: ~200 s at most
    auto event = stream.pop(std::chrono::milliseconds(10));
    if (!event) continue;
    if (event->kind == GenerationEvent::Kind::kText) {
      c.text += event->text;
      c.tokens.insert(c.tokens.end(), event->token_ids.begin(), event->token_ids.end());
      continue;
    }
    c.error = event->kind == GenerationEvent::Kind::kError;
    c.final_event = std::move(event);
    return c;
  }
  ADD_FAILURE() << "request did not finish";
  return c;
}

class LlmEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = Model::load(testing::data_path("models/small-q8_0.gguf"))->release();
    tokenizer_ = new Tokenizer(std::move(*Tokenizer::from_gguf(model_->file())));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    delete model_;
  }

  std::unique_ptr<LlmEngine> make_engine(EngineOptions options = {}) {
    if (options.num_threads == 0) options.num_threads = 2;
    auto engine = LlmEngine::create(*model_, *tokenizer_, options, &metrics_);
    EXPECT_TRUE(engine.has_value()) << engine.error().to_string();
    return std::move(*engine);
  }

  static EngineRequest request(const std::string& text, int64_t max_tokens = 12) {
    EngineRequest r;
    r.prompt = tokenizer_->encode(text, true, false);
    r.max_tokens = max_tokens;
    r.ignore_eos = true;
    r.sampling.temperature = 0.0f;
    return r;
  }

  // The same request through the single-sequence path (Session + generate()).
  static GenerateResult reference(const EngineRequest& r) {
    Session session(*model_, SessionOptions{.n_ctx = 512, .num_threads = 2});
    GenerateRequest g;
    g.prompt = r.prompt;
    g.sampling = r.sampling;
    g.max_tokens = r.max_tokens;
    g.ignore_eos = r.ignore_eos;
    g.stop = r.stop;
    return std::move(*generate(session, *tokenizer_, g));
  }

  static std::vector<std::string> prompts(int n) {
    const std::vector<std::string> base = {"The quick brown fox", "Licensed under the Apache License",
                                           "Once upon a time, in a land", "It counted: 1, 2, 3",
                                           "you may not use this file except", "a curious robot named Byte"};
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(base[static_cast<size_t>(i) % base.size()] + std::string(i / 6, '!'));
    return out;
  }

  static Model* model_;
  static Tokenizer* tokenizer_;
  MetricsRegistry metrics_;
};

Model* LlmEngineTest::model_ = nullptr;
Tokenizer* LlmEngineTest::tokenizer_ = nullptr;

// Greedy output of a request is identical alone and batched with 15 others, and equal to the
// single-sequence path.
TEST_F(LlmEngineTest, BatchInvarianceAtTemperatureZero) {
  auto engine = make_engine();
  const auto texts = prompts(16);
  auto alone_stream = engine->submit(request(texts[0]));
  ASSERT_TRUE(alone_stream.has_value());
  const Collected alone = collect(**alone_stream);
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const auto& t : texts) streams.push_back(*engine->submit(request(t)));
  std::vector<Collected> batched;
  for (auto& s : streams) batched.push_back(collect(*s));
  EXPECT_EQ(batched[0].tokens, alone.tokens);
  EXPECT_EQ(batched[0].text, alone.text);
  for (size_t i = 0; i < texts.size(); ++i) {
    const GenerateResult ref = reference(request(texts[i]));
    EXPECT_EQ(batched[i].tokens, ref.tokens) << texts[i];
    EXPECT_EQ(batched[i].text, ref.text) << texts[i];
    ASSERT_TRUE(batched[i].final_event.has_value());
    EXPECT_EQ(batched[i].final_event->finish, FinishReason::kLength);
    EXPECT_EQ(batched[i].final_event->usage.completion_tokens, 12);
  }
}

TEST_F(LlmEngineTest, PrefixCachingOnAndOffGiveTheSameOutput) {
  const std::string system = "Licensed under the Apache License, Version 2.0 (the License); you may not use this file";
  std::vector<Collected> results[2];
  for (int on = 0; on < 2; ++on) {
    EngineOptions options;
    options.prefix_caching = on == 1;
    auto engine = make_engine(options);
    for (const std::string suffix : {" except", " unless", " or"}) {
      auto s = engine->submit(request(system + suffix));
      results[on].push_back(collect(**s));
    }
  }
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(results[0][i].tokens, results[1][i].tokens);
    EXPECT_EQ(results[0][i].final_event->usage.cached_tokens, 0);
  }
  EXPECT_EQ(results[1][0].final_event->usage.cached_tokens, 0);
  EXPECT_GT(results[1][1].final_event->usage.cached_tokens, 0);  // the shared system prompt's full blocks
  EXPECT_GT(results[1][2].final_event->usage.cached_tokens, 0);
}

// A KV budget too small for all requests at once: sequences get preempted and recomputed, and
// every output still equals the single-sequence path.
TEST_F(LlmEngineTest, PreemptionUnderATinyKvBudgetKeepsOutputsExact) {
  EngineOptions options;
  options.block_size_tokens = 4;
  options.kv_mem_bytes = 24 * 4 * KvStore::bytes_per_row(model_->config());  // 24 blocks = 96 tokens
  options.prefix_caching = false;
  auto engine = make_engine(options);
  const auto texts = prompts(8);
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (const auto& t : texts) streams.push_back(*engine->submit(request(t, 20)));
  for (size_t i = 0; i < texts.size(); ++i) {
    const Collected got = collect(*streams[i]);
    ASSERT_FALSE(got.error);
    EXPECT_EQ(got.tokens, reference(request(texts[i], 20)).tokens) << texts[i];
  }
  EXPECT_NE(metrics_.render().find("frugal_preemptions_total"), std::string::npos);
  EXPECT_EQ(metrics_.render().find("frugal_preemptions_total 0\n"), std::string::npos) << "no preemption happened";
  EXPECT_EQ(engine->snapshot().kv_blocks_used, 0);
}

TEST_F(LlmEngineTest, SeededSamplingMatchesTheSingleSequencePath) {
  auto engine = make_engine();
  EngineRequest r = request("Once upon a time", 16);
  r.sampling.temperature = 0.9f;
  r.sampling.seed = 1234;
  auto s = engine->submit(r);
  EXPECT_EQ(collect(**s).tokens, reference(r).tokens);
}

TEST_F(LlmEngineTest, InvalidRequestsAreRejected) {
  auto engine = make_engine(EngineOptions{.max_context = 16});
  EXPECT_EQ(engine->submit(EngineRequest{}).error().code(), StatusCode::kInvalidArgument);
  auto long_prompt = request("Licensed under the Apache License, Version 2.0 (the License); you may not use");
  EXPECT_EQ(engine->submit(long_prompt).error().code(), StatusCode::kInvalidArgument);
  auto bad = request("hi");
  bad.prompt.push_back(100000);
  EXPECT_EQ(engine->submit(bad).error().code(), StatusCode::kInvalidArgument);
  bad = request("hi");
  bad.top_logprobs = 21;
  EXPECT_EQ(engine->submit(bad).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine->submit(request("hi", 0)).error().code(), StatusCode::kInvalidArgument)
      << "max_tokens 0 cannot be honoured: the prompt's last step already samples a token";
}

TEST_F(LlmEngineTest, FullQueueIsResourceExhausted) {
  auto engine = make_engine(EngineOptions{.max_running = 1, .max_waiting = 2});
  std::vector<std::shared_ptr<RequestStream>> accepted;
  Status last;
  for (int i = 0; i < 8; ++i) {
    auto s = engine->submit(request("The quick brown fox", 200));
    if (s) accepted.push_back(*s);
    else last = s.error();
  }
  EXPECT_EQ(last.code(), StatusCode::kResourceExhausted);
  EXPECT_LE(accepted.size(), 4u);
  for (auto& s : accepted) s->cancel();
}

TEST_F(LlmEngineTest, CancelledRequestFreesItsBlocks) {
  auto engine = make_engine();
  auto s = *engine->submit(request("The quick brown fox", -1));
  ASSERT_TRUE(s->pop(std::chrono::milliseconds(20000)).has_value());  // it is running
  for (int i = 0; i < 500 && engine->snapshot().kv_blocks_used == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_GT(engine->snapshot().kv_blocks_used, 0);
  s->cancel();
  for (int i = 0; i < 500 && engine->snapshot().kv_blocks_used > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(engine->snapshot().kv_blocks_used, 0);
  EXPECT_EQ(engine->snapshot().running, 0);
}

TEST_F(LlmEngineTest, ShutdownLetsInFlightRequestsFinishWithinTheDrain) {
  auto engine = make_engine();
  auto quick = *engine->submit(request("hi", 4));
  engine->shutdown(std::chrono::seconds(60));  // returns once the engine has drained
  EXPECT_EQ(engine->submit(request("late")).error().code(), StatusCode::kUnavailable);
  const Collected q = collect(*quick);
  EXPECT_FALSE(q.error);
  EXPECT_EQ(q.final_event->usage.completion_tokens, 4);
}

TEST_F(LlmEngineTest, ShutdownFailsRequestsStillRunningAfterTheDrain) {
  auto engine = make_engine();
  auto endless = *engine->submit(request("The quick brown fox", -1));
  ASSERT_TRUE(endless->pop(std::chrono::milliseconds(20000)).has_value());  // it is running
  engine->shutdown(std::chrono::milliseconds(0));
  const Collected e = collect(*endless);
  ASSERT_TRUE(e.final_event.has_value());
  EXPECT_TRUE(e.error);
  EXPECT_EQ(e.final_event->error.code(), StatusCode::kUnavailable);
}

TEST_F(LlmEngineTest, StopStringsAndLogprobs) {
  auto engine = make_engine();
  EngineRequest r = request("The quick brown fox", 16);
  const GenerateResult ref = reference(r);
  ASSERT_GE(ref.text.size(), 6u);
  r.stop = {ref.text.substr(3, 3)};
  r.top_logprobs = 3;
  const Collected got = collect(**engine->submit(r));
  EXPECT_EQ(got.text, ref.text.substr(0, ref.text.find(r.stop[0])));
  EXPECT_EQ(got.final_event->finish, FinishReason::kStop);
}

}  // namespace
}  // namespace frugal
