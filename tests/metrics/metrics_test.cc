// Metrics registry: exact exposition text, histogram bucket math, label escaping, promtool.
#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "metrics/serving_metrics.h"

namespace frugal {
namespace {

TEST(MetricsRegistry, RendersExactTextFormat) {
  MetricsRegistry registry;
  CounterFamily* requests = registry.counter("demo_requests_total", "Requests served.", {"outcome"});
  GaugeFamily* running = registry.gauge("demo_running", "Running now.");
  HistogramFamily* latency = registry.histogram("demo_latency_seconds", "Latency.", {0.125, 1.0});
  requests->with({"stop"}).inc();
  requests->with({"stop"}).inc(2);
  requests->with({"error"}).inc();
  running->with().set(3);
  latency->with().observe(0.0625);  // binary-exact values, so the sum prints exactly
  latency->with().observe(0.125);   // le is inclusive: lands in the 0.125 bucket
  latency->with().observe(0.5);
  latency->with().observe(7.0);
  const std::string expected =
      "# HELP demo_requests_total Requests served.\n"
      "# TYPE demo_requests_total counter\n"
      "demo_requests_total{outcome=\"error\"} 1\n"
      "demo_requests_total{outcome=\"stop\"} 3\n"
      "# HELP demo_running Running now.\n"
      "# TYPE demo_running gauge\n"
      "demo_running 3\n"
      "# HELP demo_latency_seconds Latency.\n"
      "# TYPE demo_latency_seconds histogram\n"
      "demo_latency_seconds_bucket{le=\"0.125\"} 2\n"
      "demo_latency_seconds_bucket{le=\"1\"} 3\n"
      "demo_latency_seconds_bucket{le=\"+Inf\"} 4\n"
      "demo_latency_seconds_sum 7.6875\n"
      "demo_latency_seconds_count 4\n";
  EXPECT_EQ(registry.render(), expected);
}

TEST(MetricsRegistry, UnlabelledFamiliesRenderZeroBeforeUse) {
  MetricsRegistry registry;
  registry.counter("c_total", "c");
  registry.histogram("h_seconds", "h", {1.0}, {"phase"});
  EXPECT_EQ(registry.render(),
            "# HELP c_total c\n# TYPE c_total counter\nc_total 0\n"
            "# HELP h_seconds h\n# TYPE h_seconds histogram\n");
}

TEST(Histogram, BucketMathIsCumulativeAndInclusive) {
  Histogram histogram({1.0, 2.0, 4.0});
  for (const double v : {0.0, 1.0, 1.5, 2.0, 3.9, 4.0, 4.1, 100.0}) histogram.observe(v);
  const Histogram::Snapshot snap = histogram.snapshot();
  ASSERT_EQ(snap.cumulative_counts.size(), 4u);
  EXPECT_EQ(snap.cumulative_counts[0], 2u);  // 0, 1
  EXPECT_EQ(snap.cumulative_counts[1], 4u);  // + 1.5, 2
  EXPECT_EQ(snap.cumulative_counts[2], 6u);  // + 3.9, 4
  EXPECT_EQ(snap.cumulative_counts[3], 8u);  // + 4.1, 100
  EXPECT_EQ(snap.count, 8u);
  EXPECT_DOUBLE_EQ(snap.sum, 0.0 + 1.0 + 1.5 + 2.0 + 3.9 + 4.0 + 4.1 + 100.0);
}

TEST(Histogram, ConcurrentObservationsAreAllCounted) {
  Histogram histogram(latency_buckets_seconds());
  constexpr int kThreads = 4, kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) histogram.observe(0.5);
    });
  }
  for (auto& t : threads) t.join();
  const auto snap = histogram.snapshot();
  EXPECT_EQ(snap.count, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_DOUBLE_EQ(snap.sum, 0.5 * kThreads * kPerThread);
}

TEST(MetricsRegistry, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  CounterFamily* family = registry.counter("esc_total", "line one\nback\\slash", {"path"});
  family->with({"a\"b\\c\nd"}).inc();
  EXPECT_EQ(registry.render(),
            "# HELP esc_total line one\\nback\\\\slash\n"
            "# TYPE esc_total counter\n"
            "esc_total{path=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsRegistry, SecondRegistrationReturnsTheSameFamily) {
  MetricsRegistry registry;
  CounterFamily* first = registry.counter("same_total", "x", {"k"});
  CounterFamily* second = registry.counter("same_total", "x", {"k"});
  EXPECT_EQ(first, second);
  const ServingMetrics a = register_serving_metrics(registry);
  const ServingMetrics b = register_serving_metrics(registry);
  EXPECT_EQ(a.ttft, b.ttft);
  EXPECT_EQ(a.requests, b.requests);
  EXPECT_EQ(a.kv_total, b.kv_total);
}

TEST(MetricsRegistry, GaugeAddAndSet) {
  MetricsRegistry registry;
  Gauge& gauge = registry.gauge("g", "g")->with();
  gauge.set(5);
  gauge.add(-2);
  gauge.add(0.5);
  EXPECT_DOUBLE_EQ(gauge.value(), 3.5);
}

TEST(ServingMetrics, ExposesEveryDocumentedNameWithAllOutcomes) {
  MetricsRegistry registry;
  register_serving_metrics(registry);
  const std::string text = registry.render();
  for (const char* name :
       {"frugal_time_to_first_token_seconds_bucket", "frugal_inter_token_latency_seconds_count",
        "frugal_e2e_request_latency_seconds_sum", "frugal_queue_time_seconds_count",
        "frugal_step_duration_seconds_count{phase=\"prefill\"}", "frugal_step_duration_seconds_count{phase=\"decode\"}",
        "frugal_prompt_tokens_total 0", "frugal_generation_tokens_total 0", "frugal_cached_prompt_tokens_total 0",
        "frugal_requests_total{outcome=\"stop\"} 0", "frugal_requests_total{outcome=\"length\"} 0",
        "frugal_requests_total{outcome=\"cancelled\"} 0", "frugal_requests_total{outcome=\"error\"} 0",
        "frugal_requests_total{outcome=\"rejected\"} 0", "frugal_preemptions_total 0", "frugal_requests_running 0",
        "frugal_requests_waiting 0", "frugal_kv_blocks_used 0", "frugal_kv_blocks_capacity 0",
        "frugal_compute_seconds_total 0", "frugal_cost_usd_total 0", "frugal_price_usd_per_hour 0",
        "frugal_cost_usd_per_million_tokens{tokens=\"all\"} 0",
        "frugal_cost_usd_per_million_tokens{tokens=\"generated\"} 0"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

// promtool (Debian package `prometheus`) lints the exposition: names, units, HELP/TYPE, histograms.
TEST(ServingMetrics, PassesPromtoolCheckMetrics) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    if (std::getenv("CI") != nullptr) FAIL() << "promtool is required in CI (apt-get install prometheus)";
    GTEST_SKIP() << "promtool not installed";
  }
  MetricsRegistry registry;
  const ServingMetrics m = register_serving_metrics(registry);
  m.ttft->with().observe(0.2);
  m.step_duration->with({"decode"}).observe(0.01);
  m.requests->with({"stop"}).inc();
  m.cost_usd->with().inc(0.0042);
  m.cost_per_million_tokens->with({kCostTokensAll}).set(1.25);
  const std::string path = ::testing::TempDir() + "frugal_metrics_promtool.txt";
  std::ofstream(path) << registry.render();
  const std::string command = "promtool check metrics < " + path + " > " + path + ".out 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream out_file(path + ".out");
  const std::string output((std::istreambuf_iterator<char>(out_file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << output;
  EXPECT_EQ(output, "") << "promtool lint findings";
}

}  // namespace
}  // namespace frugal
