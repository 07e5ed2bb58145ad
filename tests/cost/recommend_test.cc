// Recommendation: the cheapest configuration meeting the SLO, checked against an independent
// brute force over a small grid, and the speed of a 1,000+ configuration search.
#include <gtest/gtest.h>

#include <chrono>

#include "cost/recommend.h"
#include "cost_test_util.h"

namespace frugal {
namespace {

RecommendQuery small_query() {
  RecommendQuery q;
  q.shape = *find_llm_shape("llama-3-70b");
  for (const char* hw : {"h100-sxm", "h200", "a100-80gb", "l40s", "mi300x"}) q.hardware.push_back(testing::hardware(hw));
  for (const char* w : {"bf16", "fp8", "q4_k_m"}) q.weights.push_back(*find_weight_type(w));
  q.counts = {1, 2, 4};
  q.batches = {1, 4, 16, 64, 256};
  q.workload = {1024, 256};
  q.max_tpot_s = 0.05;
  q.max_ttft_s = 2.0;
  return q;
}

TEST(Recommend, MatchesBruteForceOnASmallGrid) {
  const RecommendQuery q = small_query();
  const Recommendation r = recommend(q);
  ASSERT_TRUE(r.best.has_value());
  // Independent brute force straight on the roofline.
  double best_cost = 1e300;
  std::string best_key;
  for (const Accelerator& hw : q.hardware) {
    for (int count : q.counts) {
      for (const WeightType& wt : q.weights) {
        if (!hw.can_run(wt.name)) continue;
        LlmDeployment d{q.shape, wt, 2.0, hw, count, default_efficiency(hw.kind), std::nullopt, 512};
        auto m = LlmRoofline::create(d);
        if (!m) continue;
        for (int64_t b : q.batches) {
          if (!m->fits(b, 1024 + 256)) continue;
          const double tpot = m->decode_step(b, 1024 + 128).total_s();
          const double ttft = m->prefill(1, 1024).total_s() + 0.5 * tpot;
          if (tpot > q.max_tpot_s || ttft > q.max_ttft_s) continue;
          const double cost = hw.cloud_usd_per_hour_mid() * count / (b / tpot * 3600) * 1e6;
          if (cost < best_cost) {
            best_cost = cost;
            best_key = hw.name + "/" + std::to_string(count) + "/" + wt.name + "/" + std::to_string(b);
          }
        }
      }
    }
  }
  const Candidate& c = *r.best;
  EXPECT_EQ(c.hardware + "/" + std::to_string(c.count) + "/" + c.weights + "/" + std::to_string(c.batch), best_key);
  EXPECT_NEAR(c.usd_per_million_output_tokens, best_cost, best_cost * 1e-9);
  EXPECT_EQ(r.evaluated, (5 * 3 * 3 - r.skipped - r.unsupported) * 5);
  for (const Candidate& k : r.ranked) {
    EXPECT_TRUE(k.meets_slo);
    EXPECT_GE(k.usd_per_million_output_tokens, c.usd_per_million_output_tokens);
  }
}

// Only formats an accelerator's catalogue entry lists are offered: no GGUF k-quants on Gaudi 3,
// no FP4 before Blackwell (issue #24).
TEST(Recommend, OffersOnlyWeightFormatsTheHardwareCanRun) {
  RecommendQuery q = small_query();
  const HardwareCatalogue catalogue = testing::builtin_catalogue();
  q.hardware = catalogue.entries();
  q.weights = weight_types();
  q.max_tpot_s = 0;
  q.max_ttft_s = 0;
  q.shape = *find_llm_shape("llama-3-8b");
  const Recommendation r = recommend(q);
  EXPECT_GT(r.unsupported, 0);
  ASSERT_FALSE(r.ranked.empty());
  bool saw_gaudi = false;
  for (const Candidate& c : r.ranked) {
    const Accelerator& hw = *catalogue.find(c.hardware);
    EXPECT_TRUE(hw.can_run(c.weights)) << c.hardware << " " << c.weights;
    if (c.hardware == "gaudi3") {
      saw_gaudi = true;
      EXPECT_FALSE(find_weight_type(c.weights)->gguf_block_quant) << c.weights;
    }
  }
  EXPECT_TRUE(saw_gaudi);
  EXPECT_FALSE(catalogue.find("gaudi3")->can_run("q4_k_m"));
  EXPECT_TRUE(catalogue.find("gaudi3")->can_run("fp8"));
  EXPECT_FALSE(catalogue.find("h100-sxm")->can_run("fp4"));
  EXPECT_TRUE(catalogue.find("b200")->can_run("fp4"));
}

TEST(Recommend, ImpossibleSloYieldsNoBest) {
  RecommendQuery q = small_query();
  q.max_tpot_s = 1e-4;
  EXPECT_FALSE(recommend(q).best.has_value());
}

TEST(Recommend, ThousandsOfConfigurationsInUnderOneSecond) {
  RecommendQuery q = small_query();
  q.hardware = testing::builtin_catalogue().entries();
  q.weights = weight_types();
  q.counts = {1, 2, 4, 8};
  q.batches = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  const auto start = std::chrono::steady_clock::now();
  const Recommendation r = recommend(q);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(r.evaluated, 1000);
  EXPECT_LT(seconds, 1.0) << r.evaluated << " configurations";
  std::printf("  %lld configurations in %.3f s\n", static_cast<long long>(r.evaluated), seconds);
}

}  // namespace
}  // namespace frugal
