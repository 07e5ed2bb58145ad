// The planner against published GPU figures it was not fitted on (tests/data/cost/
// published_figures.json): each model/published ratio must lie in the spread documented in
// docs/COST-MODEL.md. The test prints every ratio.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cost/llm_serving.h"
#include "cost/video_model.h"
#include "cost_test_util.h"

namespace frugal {
namespace {

// Documented spreads (docs/COST-MODEL.md, "Checks against published figures").
constexpr double kThroughputLow = 0.8, kThroughputHigh = 1.5;
constexpr double kLatencyLow = 0.75, kLatencyHigh = 1.25;
constexpr double kVideoLow = 0.7, kVideoHigh = 1.5;
// Largest batch the offline estimate considers (TensorRT-LLM's default max_batch_size is 2048).
constexpr int64_t kMaxOfflineBatch = 2048;

nlohmann::json load_figures() {
  std::ifstream in(std::string(FRUGAL_TEST_DATA_DIR) + "/cost/published_figures.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

double kv_bytes(const std::string& kv) { return kv == "fp8" ? 1.0 : 2.0; }

TEST(PublishedFigures, TensorRtLlmOfflineThroughput) {
  const auto figures = load_figures();
  const auto& cases = figures["llm_offline_throughput"]["cases"];
  ASSERT_GE(cases.size(), 10u);
  double worst_low = 10, worst_high = 0;
  for (const auto& c : cases) {
    const LlmRoofline model = testing::roofline(c["model"], c["hardware"], c["weights"], c["count"], kv_bytes(c["kv"]));
    const Workload w{c["isl"].get<int64_t>(), c["osl"].get<int64_t>()};
    const int64_t batch = std::min(kMaxOfflineBatch, model.max_batch(w.prompt_tokens + w.output_tokens));
    const double ours = offline_output_tokens_per_s(model, w, batch);
    const double ratio = ours / c["output_tokens_per_s"].get<double>();
    std::printf("  %-12s %-9s TP%d %5lld/%-5lld batch %5lld: model %8.0f published %8.0f ratio %.2f\n",
                c["model"].get<std::string>().c_str(), c["hardware"].get<std::string>().c_str(), c["count"].get<int>(),
                static_cast<long long>(w.prompt_tokens), static_cast<long long>(w.output_tokens),
                static_cast<long long>(batch), ours, c["output_tokens_per_s"].get<double>(), ratio);
    worst_low = std::min(worst_low, ratio);
    worst_high = std::max(worst_high, ratio);
    EXPECT_GE(ratio, kThroughputLow) << c.dump();
    EXPECT_LE(ratio, kThroughputHigh) << c.dump();
  }
  std::printf("  spread: %.2f .. %.2f\n", worst_low, worst_high);
}

TEST(PublishedFigures, NimInterTokenLatency) {
  const auto figures = load_figures();
  for (const auto& c : figures["llm_inter_token_latency"]["cases"]) {
    const LlmRoofline model = testing::roofline(c["model"], c["hardware"], c["weights"], c["count"], kv_bytes(c["kv"]));
    const int64_t context = c["isl"].get<int64_t>() + c["osl"].get<int64_t>() / 2;
    const double ours = model.decode_step(1, context).total_s();
    const double ratio = ours / c["itl_s"].get<double>();
    std::printf("  ITL %s TP%d context %lld: model %.2f ms published %.2f ms ratio %.2f\n",
                c["model"].get<std::string>().c_str(), c["count"].get<int>(), static_cast<long long>(context), ours * 1e3,
                c["itl_s"].get<double>() * 1e3, ratio);
    EXPECT_GE(ratio, kLatencyLow);
    EXPECT_LE(ratio, kLatencyHigh);
  }
}

TEST(PublishedFigures, Wan21ReadmeTiming) {
  const auto figures = load_figures();
  for (const auto& c : figures["video_seconds_per_video"]["cases"]) {
    VideoRequest r;
    r.width = c["width"];
    r.height = c["height"];
    r.frames = c["frames"];
    r.steps = c["steps"];
    auto plan = plan_video(*find_dit_config(c["model"].get<std::string>()), r, testing::hardware(c["hardware"]), 0.0);
    ASSERT_TRUE(plan.has_value());
    const double ratio = plan->seconds / c["seconds"].get<double>();
    std::printf("  %s on %s: model %.0f s published %.0f s ratio %.2f\n", c["model"].get<std::string>().c_str(),
                c["hardware"].get<std::string>().c_str(), plan->seconds, c["seconds"].get<double>(), ratio);
    EXPECT_GE(ratio, kVideoLow);
    EXPECT_LE(ratio, kVideoHigh);
  }
}

}  // namespace
}  // namespace frugal
