// The deployment planner: the architectures' costs and their ordering against an independent brute
// force (its own hourly rates, Erlang C in log space, linear replica searches and each
// architecture's bill written out again), the winners of the shipped workloads, and a
// discrete-event simulation of the planned sites agreeing with the analytic utilisation and p99.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <queue>
#include <random>

#include "cost/deploy_plan.h"
#include "cost/video_model.h"
#include "cost_test_util.h"

namespace frugal {
namespace {

std::string workload_path(const std::string& name) {
  return std::string(FRUGAL_TEST_DATA_DIR) + "/../../data/workloads/" + name + ".json";
}

DeployWorkload load(const std::string& name) {
  auto w = load_deploy_workload(workload_path(name));
  EXPECT_TRUE(w.has_value()) << w.error().to_string();
  return *w;
}

// ---- the brute force ----

// P(wait) in M/M/m from its definition, summed in log space.
double erlang_c_log(int64_t m, double a) {
  if (a <= 0) return 0;
  const double log_a = std::log(a);
  double max_log = -1e300;
  std::vector<double> terms;
  for (int64_t k = 0; k < m; ++k) terms.push_back(static_cast<double>(k) * log_a - std::lgamma(static_cast<double>(k) + 1));
  const double last = static_cast<double>(m) * log_a - std::lgamma(static_cast<double>(m) + 1) +
                      std::log(static_cast<double>(m) / (static_cast<double>(m) - a));
  for (double t : terms) max_log = std::max(max_log, t);
  max_log = std::max(max_log, last);
  double sum = 0;
  for (double t : terms) sum += std::exp(t - max_log);
  const double top = std::exp(last - max_log);
  return top / (sum + top);
}

double p99_site(const ServiceModel& m, double rate, double ca2, int64_t n) {
  const int64_t servers = n * m.slots_per_replica;
  if (rate <= 0) return m.first_token_s;
  if (rate * m.mean_service_s >= static_cast<double>(servers)) return 1e300;
  // The delay probability's burstiness scaling, written out (deploy_site.h).
  const double a = rate * m.mean_service_s, z = (ca2 + m.service_scv) / (1 + m.service_scv);
  const double beta = (static_cast<double>(servers) - a) / std::sqrt(a);
  auto log_hw = [](double b) {
    const double l = std::log(b * 0.5 * std::erfc(-b / std::sqrt(2.0)) * std::sqrt(2 * M_PI)) + b * b / 2;
    return l > 30 ? -l : -std::log1p(std::exp(l));
  };
  const double c0 = erlang_c_log(servers, a);
  const double c = c0 <= 0 ? 0 : std::min({1.0, c0 * std::exp(log_hw(beta / std::sqrt(z)) - log_hw(beta)), std::pow(c0, 1 / z)});
  const double wait = c > 0.01 ? std::log(c / 0.01) / (static_cast<double>(servers) / m.mean_service_s - rate) * (ca2 + m.service_scv) / 2 : 0;
  return wait + m.first_token_s;
}

int64_t replicas_bf(const ServiceModel& m, double rate, double ca2, double budget, double max_util) {
  if (rate <= 0) return 0;
  int64_t util_only = 0;
  for (int64_t n = 1; n < 1000000; ++n) {
    if (rate * m.mean_service_s / static_cast<double>(n * m.slots_per_replica) > max_util + 1e-12) continue;
    if (util_only == 0) util_only = n;
    if (p99_site(m, rate, ca2, n) <= budget) return n;
    if (m.first_token_s > budget) break;
  }
  return util_only;
}

struct BruteArch {
  double usd_per_day = 0;
  bool meets = true;
};

std::vector<double> rates_of(const DeployWorkload& w, size_t region, double scale = 1.0) {
  std::vector<double> out(24);
  const DeployRegion& r = w.regions[region];
  for (int h = 0; h < 24; ++h) {
    out[h] = w.requests_per_hour * r.share * 24 * w.profile[((h + r.utc_offset_hours) % 24 + 24) % 24] / 3600 * scale;
  }
  return out;
}

// One site: replicas per hour (static = the day's maximum all day) and whether every served
// region's p99 (site + network) is within its budget at every hour with traffic.
std::pair<std::vector<int64_t>, bool> site_bf(const DeployWorkload& w, const ServiceModel& m, const std::vector<double>& rates,
                                              const std::vector<std::pair<size_t, double>>& served, bool autoscaled) {
  double budget = 1e300;
  for (auto [r, extra] : served) budget = std::min(budget, w.regions[r].latency_budget_s - extra);
  std::vector<int64_t> n(24);
  for (int h = 0; h < 24; ++h) n[h] = replicas_bf(m, rates[h], w.burstiness, budget, w.pricing.max_utilisation);
  const int64_t peak = *std::max_element(n.begin(), n.end());
  bool meets = true;
  for (int h = 0; h < 24; ++h) {
    if (!autoscaled) n[h] = peak;
    if (rates[h] <= 0) continue;
    for (auto [r, extra] : served) {
      if (w.regions[r].share > 0 && p99_site(m, rates[h], w.burstiness, n[h]) + extra > w.regions[r].latency_budget_s * (1 + 1e-9)) meets = false;
    }
  }
  return {n, meets};
}

double sum(const std::vector<int64_t>& v) {
  double s = 0;
  for (int64_t x : v) s += static_cast<double>(x);
  return s;
}

ServiceModel service(const std::string& model, const std::string& weights, const std::string& hw, int tp,
                     const std::vector<RequestClass>& mix, double tpot) {
  const LlmRoofline r = testing::roofline(model, hw, weights, tp);
  auto m = make_service_model(r, mix, tpot, testing::hardware(hw).cloud_usd_per_hour_mid() * tp);
  EXPECT_TRUE(m.has_value()) << m.error().to_string();
  return *m;
}

// Videos: one per replica at a time, each tier's seconds from the video model.
ServiceModel video_service(const DeployWorkload& w, const std::string& hw, const std::vector<VideoTier>& tiers) {
  std::vector<double> seconds, shares;
  for (const VideoTier& t : tiers) {
    VideoRequest r;
    std::tie(r.width, r.height) = *parse_video_resolution(t.resolution);
    r.frames = frames_for_seconds(t.seconds);
    r.steps = t.steps;
    auto plan = plan_video(*find_dit_config(t.model), r, testing::hardware(hw), 1.0);
    EXPECT_TRUE(plan.has_value() && plan->fits);
    seconds.push_back(plan->seconds);
    shares.push_back(t.share);
  }
  return make_fixed_time_service_model(1, seconds, shares, *std::max_element(seconds.begin(), seconds.end()),
                                       testing::hardware(hw).cloud_usd_per_hour_mid(), 1);
}

std::map<std::string, BruteArch> brute_force(const DeployWorkload& w) {
  const DeployPricing& p = w.pricing;
  const ServiceModel m = w.video ? video_service(w, w.hardware, w.video_mix)
                                 : service(w.model, w.weights, w.hardware, w.devices_per_replica, w.mix, w.max_tpot_s);
  const double price = m.usd_per_hour_per_replica;
  std::vector<double> pooled(24, 0.0);
  std::vector<std::pair<size_t, double>> to_central;
  for (size_t r = 0; r < w.regions.size(); ++r) {
    const std::vector<double> rr = rates_of(w, r);
    for (int h = 0; h < 24; ++h) pooled[h] += rr[h];
    to_central.push_back({r, p.access_rtt_s + region_rtt_s(w.regions[r].name, w.central_region)});
  }
  std::map<std::string, BruteArch> out;
  auto [stat, stat_ok] = site_bf(w, m, pooled, to_central, false);
  out["centralized"] = {sum(stat) * price, stat_ok};
  auto [autos, auto_ok] = site_bf(w, m, pooled, to_central, true);
  out["centralized-autoscaled"] = {sum(autos) * price, auto_ok};
  BruteArch edge;
  for (size_t r = 0; r < w.regions.size(); ++r) {
    auto [n, ok] = site_bf(w, m, rates_of(w, r), {{r, p.access_rtt_s}}, false);
    edge.usd_per_day += sum(n) * price * p.edge_price_factor;
    edge.meets = edge.meets && ok;
  }
  out["edge"] = edge;
  std::vector<RequestClass> easy, hard;
  std::vector<VideoTier> easy_v, hard_v;
  double hard_share = 0;
  if (w.video) {
    for (const VideoTier& t : w.video_mix) (t.hard ? hard_v : easy_v).push_back(t), hard_share += t.hard ? t.share : 0;
  } else {
    for (const RequestClass& c : w.mix) (c.hard ? hard : easy).push_back(c), hard_share += c.hard ? c.share : 0;
  }
  BruteArch hybrid;
  if (!easy.empty() || !easy_v.empty()) {
    const ServiceModel em = w.video ? video_service(w, w.edge_hardware, easy_v)
                                    : service(w.edge_model, w.edge_weights, w.edge_hardware, w.devices_per_replica, easy, w.max_tpot_s);
    for (size_t r = 0; r < w.regions.size(); ++r) {
      auto [n, ok] = site_bf(w, em, rates_of(w, r, 1 - hard_share), {{r, p.access_rtt_s}}, false);
      hybrid.usd_per_day += sum(n) * em.usd_per_hour_per_replica * p.edge_price_factor;
      hybrid.meets = hybrid.meets && ok;
    }
  }
  if (!hard.empty() || !hard_v.empty()) {
    const ServiceModel hm = w.video ? video_service(w, w.hardware, hard_v)
                                    : service(w.model, w.weights, w.hardware, w.devices_per_replica, hard, w.max_tpot_s);
    std::vector<double> hr(24);
    for (int h = 0; h < 24; ++h) hr[h] = pooled[h] * hard_share;
    auto [n, ok] = site_bf(w, hm, hr, to_central, false);
    hybrid.usd_per_day += sum(n) * hm.usd_per_hour_per_replica;
    hybrid.meets = hybrid.meets && ok;
  }
  out["hybrid"] = hybrid;
  // Serverless, from its definition.
  BruteArch sv;
  double cold = 0, total = 0, prev = 0;
  for (int h = 0; h < 24; ++h) {
    const double lam = pooled[h], t = m.mean_service_s, busy = lam * t / static_cast<double>(m.slots_per_replica);
    const double p_cold = std::exp(-lam * (t + p.serverless_keep_warm_s));
    const double ups = std::max(0.0, std::ceil(busy) - prev);
    prev = std::ceil(busy);
    sv.usd_per_day += (std::max(busy, 1 - p_cold) + lam * p_cold * p.serverless_cold_start_s + ups * p.serverless_cold_start_s / 3600) *
                      price * p.serverless_price_factor;
    cold += lam * p_cold;
    total += lam;
  }
  for (auto [r, extra] : to_central) {
    const double p99 = m.first_token_s + extra + (cold / total > 0.01 ? p.serverless_cold_start_s : 0);
    if (w.regions[r].share > 0 && p99 > w.regions[r].latency_budget_s * (1 + 1e-9)) sv.meets = false;
  }
  out["serverless"] = sv;
  // Spot: spares to the 99th percentile of replicas down, discount when available, re-work.
  BruteArch spot{0, auto_ok};
  const double blended = p.spot_availability * (1 - p.spot_discount) + (1 - p.spot_availability);
  for (int h = 0; h < 24; ++h) {
    const double down = static_cast<double>(autos[h]) * p.spot_preemptions_per_hour * p.spot_restart_s / 3600;
    int64_t spare = 0;
    double cdf = std::exp(-down), term = cdf;
    while (cdf < 0.99) term *= down / static_cast<double>(++spare), cdf += term;
    spot.usd_per_day += static_cast<double>(autos[h] + spare) * price * blended *
                        (1 + p.spot_preemptions_per_hour * (p.spot_restart_s / 3600 + m.mean_service_s / 7200));
  }
  out["spot"] = spot;
  for (auto [name, d] : {std::pair{"committed-1y", p.committed_1y_discount}, {"committed-3y", p.committed_3y_discount}}) {
    double best = 1e300;
    for (int64_t k = 0; k <= 100000; ++k) {
      double c = 0;
      for (int h = 0; h < 24; ++h) c += static_cast<double>(k) * (1 - d) + static_cast<double>(std::max<int64_t>(0, autos[h] - k));
      best = std::min(best, c);
      if (k > *std::max_element(autos.begin(), autos.end())) break;
    }
    out[name] = {best * price, auto_ok};
  }
  return out;
}

void expect_matches_brute_force(const DeployWorkload& w, const std::string& expected_winner) {
  auto plan = plan_deploy(w, testing::builtin_catalogue());
  ASSERT_TRUE(plan.has_value()) << plan.error().to_string();
  const auto bf = brute_force(w);
  std::vector<std::pair<double, std::string>> plan_order, bf_order;
  std::string bf_winner;
  double bf_best = 1e300;
  for (const ArchitecturePlan& a : plan->architectures) {
    ASSERT_TRUE(a.feasible) << a.name << ": " << a.reason;
    const BruteArch& b = bf.at(a.name);
    const double bf_monthly = b.usd_per_day * 730 / 24;
    EXPECT_NEAR(a.monthly_usd, bf_monthly, 1e-6 * bf_monthly) << w.name << " " << a.name;
    EXPECT_EQ(a.meets_budget, b.meets) << w.name << " " << a.name;
    plan_order.push_back({a.monthly_usd, a.name});
    bf_order.push_back({bf_monthly, a.name});
    if (b.meets && bf_monthly < bf_best) bf_best = bf_monthly, bf_winner = a.name;
    std::printf("  %-13s %-22s USD %10.0f/month (brute force %10.0f), util %5.1f %%, p99 %.3f s / %.3f s%s\n", w.name.c_str(),
                a.name.c_str(), a.monthly_usd, bf_monthly, 100 * a.utilisation, a.p99_ttft_s, a.latency_budget_s,
                a.meets_budget ? "" : " MISSES");
  }
  std::stable_sort(plan_order.begin(), plan_order.end());
  std::stable_sort(bf_order.begin(), bf_order.end());
  for (size_t i = 0; i < plan_order.size(); ++i) EXPECT_EQ(plan_order[i].second, bf_order[i].second) << w.name << " rank " << i;
  ASSERT_GE(plan->winner, 0);
  EXPECT_EQ(plan->architectures[plan->winner].name, bf_winner);
  if (!expected_winner.empty()) EXPECT_EQ(bf_winner, expected_winner) << plan->reason;
}

TEST(DeployPlan, ShippedWorkloadsMatchBruteForceAndHaveDifferentWinners) {
  expect_matches_brute_force(load("steady"), "committed-3y");
  expect_matches_brute_force(load("diurnal"), "spot");
  expect_matches_brute_force(load("multi-region"), "edge");
  expect_matches_brute_force(load("video"), "spot");  // priced per video
}

TEST(DeployPlan, TrafficSweepMatchesBruteForce) {
  // From a trickle (serverless scales to zero and wins) to heavy traffic, and a tighter TPOT.
  for (double rph : {30.0, 600.0, 20000.0, 250000.0}) {
    DeployWorkload w = load("diurnal");
    w.requests_per_hour = rph;
    w.name = "diurnal@" + std::to_string(static_cast<int>(rph));
    expect_matches_brute_force(w, "");
  }
  DeployWorkload w = load("multi-region");
  for (DeployRegion& r : w.regions) r.latency_budget_s = 1.0;  // every architecture reaches every region
  w.name = "multi-1s";
  expect_matches_brute_force(w, "");
}

TEST(DeployPlan, PoolingRaisesUtilisationAndEdgeCostsMorePerToken) {
  DeployWorkload w = load("multi-region");
  for (DeployRegion& r : w.regions) r.latency_budget_s = 1.0;
  auto plan = plan_deploy(w, testing::builtin_catalogue());
  ASSERT_TRUE(plan.has_value());
  const ArchitecturePlan& c = plan->architectures[0];
  const ArchitecturePlan& e = plan->architectures[2];
  ASSERT_EQ(c.name, "centralized");
  ASSERT_EQ(e.name, "edge");
  EXPECT_GT(c.utilisation, e.utilisation);
  EXPECT_GT(e.usd_per_unit, c.usd_per_unit);
  // Same hardware, price and service model: cost per token is inversely proportional to utilisation.
  EXPECT_NEAR(e.usd_per_unit / c.usd_per_unit, c.utilisation / e.utilisation, 1e-9);
}

// ---- the discrete-event simulation ----

struct Simulated {
  double utilisation = 0;
  double p99_ttft_s = 0;
};

// A site of replicas x slots servers, first come first served; gamma gaps with squared CV ca2;
// each request's class drawn from the mix, holding a slot for its class's service time.
Simulated simulate(const ServiceModel& m, double rate, double ca2, int64_t replicas, int64_t n_requests, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> gap(1.0 / ca2, ca2 / rate);
  std::discrete_distribution<size_t> cls(m.class_share.begin(), m.class_share.end());
  std::priority_queue<double, std::vector<double>, std::greater<double>> free_at;
  for (int64_t i = 0; i < replicas * m.slots_per_replica; ++i) free_at.push(0.0);
  std::vector<double> waits;
  waits.reserve(static_cast<size_t>(n_requests));
  double t = 0, busy = 0;
  const int64_t warmup = n_requests / 10;
  double t_warm = 0, busy_warm = 0;
  for (int64_t i = 0; i < n_requests; ++i) {
    t += gap(rng);
    const double service = m.class_service_s[cls(rng)];
    const double start = std::max(t, free_at.top());
    free_at.pop();
    free_at.push(start + service);
    if (i == warmup) t_warm = t, busy_warm = busy;
    busy += service;
    if (i >= warmup) waits.push_back(start - t);
  }
  Simulated s;
  s.utilisation = (busy - busy_warm) / (static_cast<double>(replicas * m.slots_per_replica) * (t - t_warm));
  auto at = waits.begin() + static_cast<std::ptrdiff_t>(0.99 * static_cast<double>(waits.size()));
  std::nth_element(waits.begin(), at, waits.end());
  s.p99_ttft_s = *at + m.first_token_s;
  return s;
}

void expect_simulation_agrees(const std::string& what, const ServiceModel& m, double rate, double ca2, int64_t replicas) {
  const SiteHour planned = site_at(m, rate, ca2, replicas);
  const int64_t n = 1000000;  // 200,000 left the bursty p99 noisy by ~20 % between seeds
  const Simulated sim = simulate(m, rate, ca2, replicas, n, 42);
  std::printf("  %-34s %3lld replicas x %3lld slots: utilisation %.3f (sim %.3f), p99 TTFT %.3f s (sim %.3f)\n", what.c_str(),
              static_cast<long long>(replicas), static_cast<long long>(m.slots_per_replica), planned.utilisation, sim.utilisation,
              planned.p99_ttft_s, sim.p99_ttft_s);
  EXPECT_NEAR(sim.utilisation / planned.utilisation, 1.0, 0.10) << what;
  EXPECT_NEAR(sim.p99_ttft_s / planned.p99_ttft_s, 1.0, 0.10) << what;
}

TEST(DeployPlan, SimulationAgreesOnThePlannedSites) {
  // The busiest hour of each shipped workload's central site, and of each multi-region edge site,
  // at the replicas the planner sizes for it.
  for (const char* name : {"steady", "diurnal", "multi-region", "video"}) {
    const DeployWorkload w = load(name);
    auto plan = plan_deploy(w, testing::builtin_catalogue());
    ASSERT_TRUE(plan.has_value());
    const std::vector<double> pooled = pooled_rates(w);
    const double peak = *std::max_element(pooled.begin(), pooled.end());
    auto sized = size_site(plan->central, peak, w.burstiness, 1e9, w.pricing.max_utilisation);
    ASSERT_TRUE(sized.has_value());
    expect_simulation_agrees(std::string(name) + " central peak", plan->central, peak, w.burstiness, sized->replicas);
  }
  const DeployWorkload w = load("multi-region");
  auto plan = plan_deploy(w, testing::builtin_catalogue());
  ASSERT_TRUE(plan.has_value());
  for (size_t r = 0; r < w.regions.size(); ++r) {
    double peak = 0;
    for (int h = 0; h < 24; ++h) peak = std::max(peak, w.region_rate_at(r, h));
    auto sized = size_site(plan->central, peak, w.burstiness, w.regions[r].latency_budget_s - w.pricing.access_rtt_s,
                           w.pricing.max_utilisation);
    ASSERT_TRUE(sized.has_value());
    expect_simulation_agrees("multi-region edge " + w.regions[r].name, plan->central, peak, w.burstiness, sized->replicas);
  }
}

TEST(DeployPlan, SimulationAgreesWhereRequestsQueue) {
  // Few slots at high load, where the p99 wait is most of the p99 TTFT: the G/G/m formula itself.
  ServiceModel m;
  m.slots_per_replica = 8;
  m.class_share = {0.7, 0.3};
  m.class_service_s = {2.0, 6.0};
  m.mean_service_s = 0.7 * 2 + 0.3 * 6;
  m.service_scv = (0.7 * 4 + 0.3 * 36) / (m.mean_service_s * m.mean_service_s) - 1;
  m.first_token_s = 0.1;
  for (double ca2 : {1.0, 2.0}) {
    const double rate = 0.9 * 16 / m.mean_service_s;  // 2 replicas at 90 %
    expect_simulation_agrees("queueing, ca2 " + std::to_string(ca2), m, rate, ca2, 2);
  }
}

}  // namespace
}  // namespace frugal
