// The live cost meter: the sliding window and totals on an injected clock, the proportional split
// of a step over its chunks, and the engine end to end (per-request costs add up to the meter's
// counter within 1 %, a long request costs more than a short one of the same batch).
#include "engine/cost_meter.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/test_data.h"
#include "engine/llm_engine.h"

namespace frugal {
namespace {

using Clock = CostMeter::Clock;

// A clock the test moves by hand.
struct FakeClock {
  Clock::time_point now{};
  void advance(double seconds) {
    now += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  }
  CostMeter::NowFn fn() {
    return [this] { return now; };
  }
};

// 3.6 USD/hour = 0.001 USD per second: the hand-computed figures below use that.
constexpr double kUsdPerHour = 3.6;

TEST(CostMeter, SlidingWindowOnAnInjectedClock) {
  FakeClock clock;
  CostMeter meter({.usd_per_hour = kUsdPerHour, .window_seconds = 10}, clock.fn());
  meter.record_step(1.0, 1000, 10);  // t = 0
  CostMeter::WindowRates w = meter.window();
  EXPECT_DOUBLE_EQ(w.compute_seconds, 1.0);
  EXPECT_DOUBLE_EQ(w.usd_per_million_tokens, 1.0);              // 0.001 USD / 1000 tokens
  EXPECT_DOUBLE_EQ(w.usd_per_million_generated_tokens, 100.0);  // 0.001 USD / 10 tokens

  clock.advance(5);
  meter.record_step(3.0, 1000, 0);  // t = 5
  w = meter.window();
  EXPECT_DOUBLE_EQ(w.compute_seconds, 4.0);
  EXPECT_EQ(w.num_tokens, 2000);
  EXPECT_DOUBLE_EQ(w.usd_per_million_tokens, 2.0);              // 0.004 USD / 2000 tokens
  EXPECT_DOUBLE_EQ(w.usd_per_million_generated_tokens, 400.0);  // 0.004 USD / 10 tokens

  clock.advance(5.5);  // t = 10.5: the first step has left the 10 s window
  w = meter.window();
  EXPECT_DOUBLE_EQ(w.compute_seconds, 3.0);
  EXPECT_EQ(w.num_tokens, 1000);
  EXPECT_EQ(w.num_generated_tokens, 0);
  EXPECT_DOUBLE_EQ(w.usd_per_million_tokens, 3.0);
  EXPECT_EQ(w.usd_per_million_generated_tokens, 0.0) << "nothing generated in the window";

  clock.advance(6);  // t = 16.5: empty window
  meter.refresh();
  w = meter.window();
  EXPECT_EQ(w.compute_seconds, 0.0);
  EXPECT_EQ(w.num_tokens, 0);
  EXPECT_EQ(w.usd_per_million_tokens, 0.0);

  // The totals keep everything.
  const CostMeter::Totals t = meter.totals();
  EXPECT_DOUBLE_EQ(t.compute_seconds, 4.0);
  EXPECT_DOUBLE_EQ(t.cost_usd, 0.004);
  EXPECT_EQ(t.num_tokens, 2000);
  EXPECT_EQ(t.num_generated_tokens, 10);
}

TEST(CostMeter, UpdatesTheServingMetrics) {
  FakeClock clock;
  MetricsRegistry registry;
  const ServingMetrics m = register_serving_metrics(registry);
  CostMeter meter({.usd_per_hour = kUsdPerHour, .window_seconds = 10}, clock.fn());
  meter.attach_metrics(m);
  EXPECT_DOUBLE_EQ(m.price_usd_per_hour->with().value(), kUsdPerHour);
  meter.record_step(2.0, 500, 4);
  EXPECT_DOUBLE_EQ(m.compute_seconds->with().value(), 2.0);
  EXPECT_DOUBLE_EQ(m.cost_usd->with().value(), 0.002);
  EXPECT_DOUBLE_EQ(m.cost_per_million_tokens->with({kCostTokensAll}).value(), 4.0);  // 0.002 / 500 * 1e6
  EXPECT_DOUBLE_EQ(m.cost_per_million_tokens->with({kCostTokensGenerated}).value(), 500.0);
  clock.advance(11);
  meter.refresh();
  EXPECT_EQ(m.cost_per_million_tokens->with({kCostTokensAll}).value(), 0.0) << "the window emptied";
  EXPECT_DOUBLE_EQ(m.cost_usd->with().value(), 0.002) << "counters never go down";
  const std::string text = registry.render();
  for (const char* line : {"frugal_compute_seconds_total 2\n", "frugal_cost_usd_total 0.002\n",
                           "frugal_price_usd_per_hour 3.6\n", "frugal_cost_usd_per_million_tokens{tokens=\"all\"} 0\n",
                           "frugal_cost_usd_per_million_tokens{tokens=\"generated\"} 0\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  }
}

TEST(CostMeter, NoPriceMetersSecondsButCostsNothing) {
  FakeClock clock;
  CostMeter meter({.usd_per_hour = 0, .window_seconds = 60}, clock.fn());
  meter.record_step(0.5, 10, 1);
  EXPECT_DOUBLE_EQ(meter.totals().compute_seconds, 0.5);
  EXPECT_EQ(meter.totals().cost_usd, 0.0);
  EXPECT_EQ(meter.usd_for_seconds(100), 0.0);
  EXPECT_EQ(meter.window().usd_per_million_tokens, 0.0);
}

class CostMeterEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = Model::load(testing::data_path("models/small-q8_0.gguf"))->release();
    tokenizer_ = new Tokenizer(std::move(*Tokenizer::from_gguf(model_->file())));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    delete model_;
  }

  static EngineRequest request(int32_t num_prompt_tokens, int64_t max_tokens, int32_t first_token) {
    EngineRequest r;
    for (int32_t i = 0; i < num_prompt_tokens; ++i) r.prompt.push_back(first_token + (i * 7) % 300);
    r.max_tokens = max_tokens;
    r.ignore_eos = true;
    r.sampling.temperature = 0.0f;
    return r;
  }

  std::unique_ptr<Sequence> sequence(SeqId id, int32_t num_prompt_tokens) {
    return std::make_unique<Sequence>(id, id, request(num_prompt_tokens, 4, 10), std::make_shared<RequestStream>(id),
                                      *tokenizer_, static_cast<int32_t>(model_->config().n_vocab));
  }

  static Model* model_;
  static Tokenizer* tokenizer_;
};

Model* CostMeterEngineTest::model_ = nullptr;
Tokenizer* CostMeterEngineTest::tokenizer_ = nullptr;

// A step's time goes to its chunks by their token counts; generated = chunks that sample.
TEST_F(CostMeterEngineTest, ChargeStepSplitsByTokens) {
  auto prefill = sequence(0, 30);
  auto decode_a = sequence(1, 5);
  auto decode_b = sequence(2, 5);
  SchedulerOutput out;
  out.chunks = {{prefill.get(), 6, false}, {decode_a.get(), 1, true}, {decode_b.get(), 1, true}};
  CostMeter meter({.usd_per_hour = kUsdPerHour, .window_seconds = 60});
  meter.charge_step(0.8, out);
  EXPECT_DOUBLE_EQ(prefill->compute_seconds, 0.6);  // 6 of 8 tokens
  EXPECT_DOUBLE_EQ(decode_a->compute_seconds, 0.1);
  EXPECT_DOUBLE_EQ(decode_b->compute_seconds, 0.1);
  SchedulerOutput last;
  last.chunks = {{prefill.get(), 2, true}};
  meter.charge_step(0.2, last);
  EXPECT_DOUBLE_EQ(prefill->compute_seconds, 0.8);
  EXPECT_EQ(meter.totals().num_tokens, 10);
  EXPECT_EQ(meter.totals().num_generated_tokens, 3);
  EXPECT_DOUBLE_EQ(meter.totals().compute_seconds, 1.0);
}

struct Finished {
  Usage usage;
  bool ok = false;
};

Finished wait_finished(RequestStream& stream) {
  for (int attempt = 0; attempt < 20000; ++attempt) {  // bounded: ~200 s at most
    auto event = stream.pop(std::chrono::milliseconds(10));
    if (!event || event->kind == GenerationEvent::Kind::kText) continue;
    return Finished{event->usage, event->kind == GenerationEvent::Kind::kFinished};
  }
  ADD_FAILURE() << "request did not finish";
  return {};
}

// The "done when": the per-request costs add up to the meter's total within 1 %.
TEST_F(CostMeterEngineTest, PerRequestCostsAddUpToTheMetersTotal) {
  MetricsRegistry registry;
  EngineOptions options;
  options.num_threads = 2;
  options.usd_per_hour = kUsdPerHour;
  options.prefix_caching = false;  // every prompt token is processed: the token counts below are exact
  options.step_token_budget = 64;  // long prompts are chunked over several steps shared with decodes
  auto engine = LlmEngine::create(*model_, *tokenizer_, options, &registry);
  ASSERT_TRUE(engine) << engine.error().to_string();

  // 10 concurrent requests of different lengths; the first is much longer than the last.
  const struct {
    int32_t prompt_tokens;
    int64_t max_tokens;
  } shapes[] = {{200, 40}, {3, 2}, {50, 10}, {8, 30}, {120, 5}, {16, 16}, {64, 1}, {5, 20}, {33, 12}, {4, 2}};
  std::vector<std::shared_ptr<RequestStream>> streams;
  for (size_t i = 0; i < std::size(shapes); ++i) {
    auto stream = (*engine)->submit(request(shapes[i].prompt_tokens, shapes[i].max_tokens, static_cast<int32_t>(i) + 1));
    ASSERT_TRUE(stream) << stream.error().to_string();
    streams.push_back(*stream);
  }
  std::vector<Usage> usages;
  for (auto& stream : streams) {
    const Finished f = wait_finished(*stream);
    ASSERT_TRUE(f.ok);
    usages.push_back(f.usage);
  }

  double sum_cost = 0, sum_seconds = 0;
  int64_t processed_tokens = 0, generated_tokens = 0;
  for (size_t i = 0; i < usages.size(); ++i) {
    const Usage& u = usages[i];
    EXPECT_EQ(u.completion_tokens, shapes[i].max_tokens);
    EXPECT_GT(u.compute_seconds, 0.0) << i;
    EXPECT_GT(u.cost_usd, 0.0) << i;
    EXPECT_NEAR(u.cost_usd, u.compute_seconds * kUsdPerHour / 3600.0, 1e-15) << i;
    sum_cost += u.cost_usd;
    sum_seconds += u.compute_seconds;
    // Every prompt token runs once; every generated token but the last is fed back once.
    processed_tokens += u.prompt_tokens + u.completion_tokens - 1;
    generated_tokens += u.completion_tokens;
  }
  EXPECT_GT(usages[0].cost_usd, usages[9].cost_usd) << "200 + 40 tokens cost more than 4 + 2";
  EXPECT_GT(usages[0].cost_usd, 5 * usages[1].cost_usd);

  const ServingMetrics m = register_serving_metrics(registry);  // looks up the engine's families
  const double total_cost = m.cost_usd->with().value();
  const double total_seconds = m.compute_seconds->with().value();
  ASSERT_GT(total_cost, 0.0);
  EXPECT_NEAR(sum_cost / total_cost, 1.0, 0.01) << sum_cost << " vs " << total_cost;
  EXPECT_NEAR(sum_seconds / total_seconds, 1.0, 0.01);
  EXPECT_DOUBLE_EQ(m.price_usd_per_hour->with().value(), kUsdPerHour);
  // The 60 s window holds the whole run: $/Mtoken = total cost / tokens.
  EXPECT_NEAR(m.cost_per_million_tokens->with({kCostTokensAll}).value(),
              total_cost / static_cast<double>(processed_tokens) * 1e6, 1e-6 * total_cost / processed_tokens * 1e6);
  EXPECT_NEAR(m.cost_per_million_tokens->with({kCostTokensGenerated}).value(),
              total_cost / static_cast<double>(generated_tokens) * 1e6, 1e-6 * total_cost / generated_tokens * 1e6);
  (*engine)->shutdown(std::chrono::milliseconds(0));
}

TEST_F(CostMeterEngineTest, BadPricesAreRejected) {
  EngineOptions options;
  options.usd_per_hour = -1;
  EXPECT_FALSE(LlmEngine::create(*model_, *tokenizer_, options, nullptr).has_value());
  options.usd_per_hour = std::nan("");
  EXPECT_FALSE(LlmEngine::create(*model_, *tokenizer_, options, nullptr).has_value());
  options.usd_per_hour = 1;
  options.cost_window_seconds = 0;
  EXPECT_FALSE(LlmEngine::create(*model_, *tokenizer_, options, nullptr).has_value());
}

}  // namespace
}  // namespace frugal
