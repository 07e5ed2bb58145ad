// The traffic planner: "the cheapest way to serve Llama-3-70B at 100 requests/min with p95 TTFT
// under 2 s" answered over the whole catalogue and checked against an independent brute force
// (every deployment x every replica count, feasibility straight from serve_at_rate and the M/D/1
// p95), plus capacity, headroom and monotonicity properties.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "cost/queueing.h"
#include "cost/traffic.h"
#include "cost_test_util.h"

namespace frugal {
namespace {

TrafficQuery seventy_b_at_100_rpm() {
  TrafficQuery q;
  q.shape = *find_llm_shape("llama-3-70b");
  q.hardware = testing::builtin_catalogue().entries();
  q.weights = weight_types();
  q.counts = {1, 2, 4, 8};
  q.traffic.requests_per_s = 100.0 / 60.0;
  q.traffic.workload = {1024, 256};
  q.traffic.ttft_p95_s = 2.0;
  q.traffic.max_tpot_s = 0.05;
  q.max_replicas = 64;
  return q;
}

// Meets the targets with `replicas` replicas, computed without traffic.cc's own search.
bool brute_force_meets(const LlmRoofline& m, const Traffic& t, int replicas) {
  const double rate = t.requests_per_s / replicas;
  const ServingPoint sp = serve_at_rate(m, t.workload, rate);
  if (!sp.feasible || sp.tpot_s > t.max_tpot_s) return false;
  const double prefill = m.prefill(1, t.workload.prompt_tokens).total_s();
  const double step = m.decode_step(sp.batch, t.workload.prompt_tokens + t.workload.output_tokens / 2).total_s();
  return md1_wait_quantile(rate, prefill, 0.95) + prefill + step <= t.ttft_p95_s * (1 + 1e-9);
}

TEST(TrafficPlan, SeventyBAt100RequestsPerMinuteMatchesBruteForce) {
  const TrafficQuery q = seventy_b_at_100_rpm();
  const TrafficPlan plan = plan_for_traffic(q);
  ASSERT_TRUE(plan.best.has_value());
  double best_usd_per_hour = 1e300;
  std::string best_key;
  for (const Accelerator& hw : q.hardware) {
    const double price = hw.cloud_usd_per_hour_mid();
    for (const WeightType& wt : q.weights) {
      if (!hw.can_run(wt.name) || price <= 0) continue;
      for (int count : q.counts) {
        LlmDeployment d{q.shape, wt, 2.0, hw, count, default_efficiency(hw.kind), std::nullopt, 512};
        auto m = LlmRoofline::create(d);
        if (!m) continue;
        for (int r = 1; r <= q.max_replicas; ++r) {
          const double usd_per_hour = price * count * r;
          if (usd_per_hour > best_usd_per_hour) break;  // more replicas only cost more
          if (!brute_force_meets(*m, q.traffic, r)) continue;
          if (usd_per_hour < best_usd_per_hour) {
            best_usd_per_hour = usd_per_hour;
            best_key = hw.name + "/" + std::to_string(count) + "/" + wt.name + "/" + std::to_string(r);
          }
          break;
        }
      }
    }
  }
  const TrafficCandidate& b = *plan.best;
  std::printf("  best: %d x %d x %s %s, USD %.3f/h, USD %.6f per request, p95 TTFT %.3f s, TPOT %.1f ms\n", b.replicas,
              b.devices_per_replica, b.hardware.c_str(), b.weights.c_str(), b.usd_per_hour, b.usd_per_request,
              b.load.ttft_p95_s, b.load.serving.tpot_s * 1e3);
  EXPECT_NEAR(b.usd_per_hour, best_usd_per_hour, 1e-9 * best_usd_per_hour);
  // Ties in price may pick another deployment of the same cost; the key must match when unique.
  const std::string key = b.hardware + "/" + std::to_string(b.devices_per_replica) + "/" + b.weights + "/" +
                          std::to_string(b.replicas);
  if (key != best_key) {
    EXPECT_EQ(b.usd_per_hour, best_usd_per_hour) << key << " vs " << best_key;
  }
  // The answer meets the question, with a cost per request.
  EXPECT_LE(b.load.ttft_p95_s, 2.0);
  EXPECT_LE(b.load.serving.tpot_s, 0.05);
  EXPECT_TRUE(b.load.meets);
  EXPECT_NEAR(b.usd_per_request, b.usd_per_hour / 3600.0 / (100.0 / 60.0), 1e-12);
  EXPECT_GT(b.utilisation, 0);
  EXPECT_LE(b.utilisation, 1.0);
  EXPECT_GE(b.capacity_requests_per_s, q.traffic.requests_per_s);
  // Every ranked entry meets the targets and costs at least as much as the best.
  for (const TrafficCandidate& c : plan.ranked) {
    EXPECT_TRUE(c.load.meets) << c.hardware;
    EXPECT_LE(c.load.ttft_p95_s, 2.0 + 1e-9);
    EXPECT_GE(c.usd_per_hour, b.usd_per_hour);
    EXPECT_TRUE(std::find_if(q.hardware.begin(), q.hardware.end(), [&](const Accelerator& a) {
                  return a.name == c.hardware && a.can_run(c.weights);
                }) != q.hardware.end());
  }
}

TEST(TrafficPlan, FewestReplicasAndHeadroomAreExact) {
  const LlmRoofline m = testing::roofline("llama-3-8b", "l40s", "fp8");
  Traffic t;
  t.workload = {1024, 256};
  t.ttft_p95_s = 1.0;
  t.max_tpot_s = 0.05;
  const double capacity = replica_capacity_rate(m, t);
  ASSERT_GT(capacity, 0);
  EXPECT_TRUE(replica_at_rate(m, t, capacity * 0.999).meets);
  EXPECT_FALSE(replica_at_rate(m, t, capacity * 1.01).meets);
  t.requests_per_s = capacity * 3.5;  // needs 4 replicas
  auto c = replicas_for_traffic(m, t, 1.0, 100);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->replicas, 4);
  EXPECT_FALSE(brute_force_meets(m, t, 3));
  EXPECT_NEAR(c->headroom, 4.0 / 3.5 - 1.0, 1e-3);
  EXPECT_NEAR(c->usd_per_hour, 4.0, 1e-12);
  // More traffic never costs less.
  double previous = 0;
  for (double rate : {0.1, 1.0, 5.0, 20.0, 80.0}) {
    t.requests_per_s = rate;
    auto k = replicas_for_traffic(m, t, 1.0, 10000);
    ASSERT_TRUE(k.has_value()) << rate;
    EXPECT_GE(k->usd_per_hour, previous);
    previous = k->usd_per_hour;
  }
}

TEST(TrafficPlan, UnreachableTargetsGiveNoAnswer) {
  TrafficQuery q = seventy_b_at_100_rpm();
  q.traffic.ttft_p95_s = 0.001;  // below any prefill of 1,024 tokens of a 70B model
  EXPECT_FALSE(plan_for_traffic(q).best.has_value());
}

}  // namespace
}  // namespace frugal
