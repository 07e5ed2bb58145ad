#include "cost/deploy_site.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace frugal {
namespace {

struct MixMeans {
  double prefill_s = 0;   // mean prefill of one prompt
  double output = 0;      // mean output tokens
  int64_t context = 0;    // mean context during decode: prompt + output / 2
  int64_t max_context = 0;  // longest prompt + output (memory)
  double max_prefill_s = 0;
};

// Step stretched by prefills at a full batch: the replica prefills B / T prompts per second, each
// taking its prefill time away from decoding. Returns 0 when prefill alone saturates the replica.
double stretched_step(const MixMeans& mm, int64_t batch, double step_s) {
  double f = 0;
  for (int i = 0; i < 50; ++i) {
    const double t = mm.prefill_s + mm.output * step_s / (1.0 - f);
    const double next = static_cast<double>(batch) * mm.prefill_s / t;
    if (next >= 0.95) return 0;
    if (std::fabs(next - f) < 1e-12) break;
    f = next;
  }
  return step_s / (1.0 - f);
}

}  // namespace

Expected<ServiceModel> make_service_model(const LlmRoofline& model, const std::vector<RequestClass>& mix, double max_tpot_s,
                                          double usd_per_hour_per_replica) {
  double share_sum = 0;
  for (const RequestClass& c : mix) share_sum += c.share;
  if (mix.empty() || share_sum <= 0) return invalid_argument("no requests in the mix for this site");
  MixMeans mm;
  std::vector<double> prefills;
  double ctx = 0;
  for (const RequestClass& c : mix) {
    const double s = c.share / share_sum;
    const double p = model.prefill(1, c.prompt_tokens).total_s();
    prefills.push_back(p);
    mm.prefill_s += s * p;
    mm.output += s * static_cast<double>(c.output_tokens);
    ctx += s * (static_cast<double>(c.prompt_tokens) + 0.5 * static_cast<double>(c.output_tokens));
    mm.max_context = std::max(mm.max_context, c.prompt_tokens + c.output_tokens);
    mm.max_prefill_s = std::max(mm.max_prefill_s, p);
  }
  mm.context = static_cast<int64_t>(std::llround(ctx));
  // Largest batch that fits at the longest context and whose stretched step meets the target
  // (the stretched step grows with the batch: bisection).
  auto ok = [&](int64_t b) {
    const double s = stretched_step(mm, b, model.decode_step(b, mm.context).total_s());
    return s > 0 && s <= max_tpot_s;
  };
  int64_t lo = 0, hi = model.max_batch(mm.max_context);
  if (hi <= 0) return invalid_argument("the model does not fit on this hardware at " + std::to_string(mm.max_context) + " tokens of context");
  if (!ok(1)) return invalid_argument("even one request misses the time-per-output-token target on this hardware");
  lo = 1;
  while (lo < hi) {
    const int64_t mid = hi - (hi - lo) / 2;
    if (ok(mid)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  ServiceModel m;
  m.slots_per_replica = lo;
  m.decode_step_s = stretched_step(mm, lo, model.decode_step(lo, mm.context).total_s());
  m.usd_per_hour_per_replica = usd_per_hour_per_replica;
  m.devices_per_replica = model.deployment().tensor_parallel;
  m.mean_output_tokens = mm.output;
  double second_moment = 0;
  for (size_t i = 0; i < mix.size(); ++i) {
    const double s = mix[i].share / share_sum;
    const double t = prefills[i] + static_cast<double>(mix[i].output_tokens) * m.decode_step_s;
    m.class_share.push_back(s);
    m.class_service_s.push_back(t);
    m.mean_service_s += s * t;
    second_moment += s * t * t;
  }
  m.service_scv = second_moment / (m.mean_service_s * m.mean_service_s) - 1.0;
  m.service_scv = std::max(0.0, m.service_scv);
  m.first_token_s = mm.max_prefill_s + m.decode_step_s;
  return m;
}

ServiceModel make_fixed_time_service_model(int64_t slots_per_replica, const std::vector<double>& class_service_s,
                                           const std::vector<double>& class_share, double first_output_s,
                                           double usd_per_hour_per_replica, int devices_per_replica) {
  ServiceModel m;
  m.slots_per_replica = slots_per_replica;
  m.usd_per_hour_per_replica = usd_per_hour_per_replica;
  m.devices_per_replica = devices_per_replica;
  m.first_token_s = first_output_s;
  double total = 0, second_moment = 0;
  for (double s : class_share) total += s;
  for (size_t i = 0; i < class_service_s.size(); ++i) {
    const double s = class_share[i] / total, t = class_service_s[i];
    m.class_share.push_back(s);
    m.class_service_s.push_back(t);
    m.mean_service_s += s * t;
    second_moment += s * t * t;
  }
  m.service_scv = std::max(0.0, second_moment / (m.mean_service_s * m.mean_service_s) - 1.0);
  return m;
}

double erlang_c(int64_t servers, double offered) {
  if (offered <= 0) return 0.0;
  if (offered >= static_cast<double>(servers)) return 1.0;
  // Erlang B by its stable recursion, then C = B / (1 - rho (1 - B)).
  double b = 1.0;
  for (int64_t k = 1; k <= servers; ++k) b = offered * b / (static_cast<double>(k) + offered * b);
  const double rho = offered / static_cast<double>(servers);
  return b / (1.0 - rho * (1.0 - b));
}

namespace {

// log of Halfin–Whitt's probability of delay 1 / (1 + beta Phi(beta) / phi(beta)), in log space so
// that large beta neither underflows nor divides 0 by 0.
double log_halfin_whitt(double beta) {
  const double l = std::log(beta) + std::log(0.5 * std::erfc(-beta / std::sqrt(2.0))) + 0.5 * std::log(2.0 * M_PI) + 0.5 * beta * beta;
  return l > 0 ? -(l + std::log1p(std::exp(-l))) : -std::log1p(std::exp(l));
}

}  // namespace

double ggm_wait_probability(int64_t servers, double offered, double ca2, double cs2) {
  const double c = erlang_c(servers, offered);
  if (offered <= 0 || offered >= static_cast<double>(servers) || c <= 0) return c;
  const double z = (ca2 + cs2) / (1.0 + cs2);  // 1 for Poisson arrivals: Erlang C itself
  if (std::fabs(z - 1.0) < 1e-12) return c;
  const double beta = (static_cast<double>(servers) - offered) / std::sqrt(offered);
  const double scaled = std::log(c) + log_halfin_whitt(beta / std::sqrt(z)) - log_halfin_whitt(beta);
  // Far from the many-server regime (light load, few servers) the ratio is meaningless and can
  // blow up: bound it by C^(1/z), the ratio's large-beta limit, which stays monotone and <= 1.
  return std::min({1.0, std::exp(scaled), std::pow(c, 1.0 / z)});
}

double ggm_wait_quantile(int64_t servers, double rate_per_s, double mean_service_s, double ca2, double cs2, double q) {
  const double offered = rate_per_s * mean_service_s;
  if (offered >= static_cast<double>(servers)) return std::numeric_limits<double>::infinity();
  const double c = ggm_wait_probability(servers, offered, ca2, cs2);
  const double tail = 1.0 - q;
  if (c <= tail) return 0.0;
  const double drain_per_s = static_cast<double>(servers) / mean_service_s - rate_per_s;
  return std::log(c / tail) / drain_per_s * 0.5 * (ca2 + cs2);
}

SiteHour site_at(const ServiceModel& m, double rate_per_s, double ca2, int64_t replicas) {
  SiteHour h;
  h.replicas = replicas;
  const int64_t servers = replicas * m.slots_per_replica;
  if (servers <= 0) {
    h.utilisation = rate_per_s > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    h.p99_wait_s = h.p99_ttft_s = rate_per_s > 0 ? std::numeric_limits<double>::infinity() : 0.0;
    return h;
  }
  h.utilisation = rate_per_s * m.mean_service_s / static_cast<double>(servers);
  h.p99_wait_s = rate_per_s > 0 ? ggm_wait_quantile(servers, rate_per_s, m.mean_service_s, ca2, m.service_scv, kLatencyQuantile) : 0.0;
  h.p99_ttft_s = h.p99_wait_s + m.first_token_s;
  return h;
}

std::optional<SiteHour> size_site(const ServiceModel& m, double rate_per_s, double ca2, double budget_s,
                                  double max_utilisation, int64_t min_replicas) {
  if (m.first_token_s > budget_s) return std::nullopt;
  if (rate_per_s <= 0) return site_at(m, 0, ca2, min_replicas);
  // Start at the utilisation bound; the p99 wait only falls as replicas are added.
  const double needed = rate_per_s * m.mean_service_s / (static_cast<double>(m.slots_per_replica) * max_utilisation);
  int64_t n = std::max<int64_t>({min_replicas, 1, static_cast<int64_t>(std::ceil(needed - 1e-9))});
  for (int guard = 0; guard < 100000; ++guard, ++n) {
    const SiteHour h = site_at(m, rate_per_s, ca2, n);
    if (h.utilisation <= max_utilisation + 1e-12 && h.p99_ttft_s <= budget_s) return h;
  }
  return std::nullopt;
}

}  // namespace frugal
