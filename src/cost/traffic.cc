#include "cost/traffic.h"

#include <algorithm>
#include <cmath>

#include "cost/queueing.h"

namespace frugal {
namespace {

constexpr double kTtftQuantile = 0.95;

int64_t mean_context(const Workload& w) { return w.prompt_tokens + w.output_tokens / 2; }

// with_quantiles = false skips the p95 search: the targets only need the CDF at the budget.
ReplicaLoad evaluate(const LlmRoofline& model, const Traffic& t, double rate_per_s, bool with_quantiles) {
  ReplicaLoad r;
  r.prefill_s = model.prefill(1, t.workload.prompt_tokens).total_s();
  r.serving = serve_at_rate(model, t.workload, rate_per_s);
  if (!r.serving.feasible) {
    r.reason = r.serving.reason;
    return r;
  }
  // The decode step itself (serve_at_rate's TPOT includes the time prefills take from decoding).
  const double step_s = model.decode_step(r.serving.batch, mean_context(t.workload)).total_s();
  const double fixed_s = r.prefill_s + step_s;  // a prompt's prefill after the step in flight
  if (with_quantiles) {
    r.ttft_p95_s = md1_wait_quantile(rate_per_s, r.prefill_s, kTtftQuantile) + fixed_s;
    r.ttft_mean_s = md1_mean_wait(rate_per_s, r.prefill_s) + r.prefill_s + 0.5 * step_s;
  }
  if (t.max_tpot_s > 0 && r.serving.tpot_s > t.max_tpot_s) {
    r.reason = "time per output token over the target";
    return r;
  }
  if (t.ttft_p95_s > 0 && md1_wait_cdf(rate_per_s, r.prefill_s, t.ttft_p95_s - fixed_s) < kTtftQuantile) {
    r.reason = "p95 time to first token over the target";
    return r;
  }
  r.meets = true;
  return r;
}

}  // namespace

ReplicaLoad replica_at_rate(const LlmRoofline& model, const Traffic& traffic, double rate_per_s) {
  return evaluate(model, traffic, rate_per_s, /*with_quantiles=*/true);
}

double replica_capacity_rate(const LlmRoofline& model, const Traffic& traffic) {
  const double prefill_s = model.prefill(1, traffic.workload.prompt_tokens).total_s();
  // Prefill alone saturates the replica at 1 / prefill_s.
  double lo = 1e-9 / prefill_s, hi = 1.0 / prefill_s;
  if (!evaluate(model, traffic, lo, false).meets) return 0.0;
  while (hi - lo > 1e-6 * hi) {
    const double mid = 0.5 * (lo + hi);
    (evaluate(model, traffic, mid, false).meets ? lo : hi) = mid;
  }
  return lo;
}

std::optional<TrafficCandidate> replicas_for_traffic(const LlmRoofline& model, const Traffic& t,
                                                     double usd_per_hour_per_device, int max_replicas) {
  const double rate = t.requests_per_s;
  if (rate <= 0 || max_replicas < 1) return std::nullopt;
  const double capacity = replica_capacity_rate(model, t);
  if (capacity <= 0) return std::nullopt;
  auto meets = [&](int r) { return evaluate(model, t, rate / r, false).meets; };
  // Start from the capacity estimate, then settle on the fewest replicas that meet the targets.
  int replicas = static_cast<int>(std::clamp(std::ceil(rate / capacity), 1.0, static_cast<double>(max_replicas)));
  while (replicas > 1 && meets(replicas - 1)) --replicas;
  while (replicas <= max_replicas && !meets(replicas)) ++replicas;
  if (replicas > max_replicas) return std::nullopt;

  const LlmDeployment& d = model.deployment();
  TrafficCandidate c;
  c.hardware = d.hardware.name;
  c.devices_per_replica = d.tensor_parallel;
  c.weights = d.weights.name;
  c.replicas = replicas;
  c.load = replica_at_rate(model, t, rate / replicas);
  c.usd_per_hour = usd_per_hour_per_device * d.tensor_parallel * replicas;
  c.usd_per_request = c.usd_per_hour / 3600.0 / rate;
  const double output_tokens_per_s = rate * static_cast<double>(t.workload.output_tokens);
  c.usd_per_million_output_tokens = usd_per_million_tokens(c.usd_per_hour, output_tokens_per_s, 1.0);
  c.capacity_requests_per_s = capacity * replicas;
  c.headroom = std::max(0.0, c.capacity_requests_per_s / rate - 1.0);
  const int64_t full_context = t.workload.prompt_tokens + t.workload.output_tokens;
  const double saturated = offline_output_tokens_per_s(model, t.workload, model.max_batch(full_context)) * replicas;
  c.utilisation = saturated > 0 ? output_tokens_per_s / saturated : 0.0;
  return c;
}

bool cheaper_for_traffic(const TrafficCandidate& a, const TrafficCandidate& b) {
  if (a.usd_per_hour != b.usd_per_hour) return a.usd_per_hour < b.usd_per_hour;
  const int devices_a = a.devices_per_replica * a.replicas, devices_b = b.devices_per_replica * b.replicas;
  if (devices_a != devices_b) return devices_a < devices_b;
  return a.load.ttft_p95_s < b.load.ttft_p95_s;
}

TrafficPlan plan_for_traffic(const TrafficQuery& q) {
  TrafficPlan plan;
  for (const Accelerator& hw : q.hardware) {
    const double price = q.usd_per_hour_override > 0 ? q.usd_per_hour_override : hw.cloud_usd_per_hour_mid();
    for (const WeightType& wt : q.weights) {
      if (!hw.can_run(wt.name)) {
        ++plan.unsupported;
        continue;
      }
      for (int count : q.counts) {
        auto model = LlmRoofline::create(make_llm_deployment(q.shape, wt, q.kv_bytes_per_element, hw, count, q.efficiency));
        if (!model || price <= 0) {
          ++plan.skipped;
          continue;
        }
        ++plan.evaluated;
        if (auto c = replicas_for_traffic(*model, q.traffic, price, q.max_replicas)) plan.ranked.push_back(std::move(*c));
      }
    }
  }
  std::stable_sort(plan.ranked.begin(), plan.ranked.end(), cheaper_for_traffic);
  if (!plan.ranked.empty()) plan.best = plan.ranked.front();
  return plan;
}

}  // namespace frugal
