#include "cost/deploy_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "cost/breakeven.h"
#include "cost/llm_shape.h"
#include "cost/video_model.h"
#include "cost/weight_type.h"

namespace frugal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

struct ModelSpec {
  const char* model_field;
  std::string model;
  const char* weights_field;
  std::string weights;
  const char* hardware_field;
  std::string hardware;
};

Expected<ServiceModel> service_for(const DeployWorkload& w, const HardwareCatalogue& cat, const ModelSpec& s,
                                   const std::vector<RequestClass>& mix) {
  auto bad = [&](const char* field, const std::string& what) { return invalid_argument(w.origin + ": field '" + field + "' " + what); };
  auto shape = resolve_llm_shape(s.model);
  if (!shape) return bad(s.model_field, "names an unknown model: " + shape.error().message());
  auto wt = find_weight_type(s.weights);
  if (!wt) return bad(s.weights_field, "names an unknown weight type '" + s.weights + "' (" + weight_type_names() + ")");
  const Accelerator* hw = cat.find(s.hardware);
  if (!hw) return bad(s.hardware_field, "names unknown hardware: " + cat.get(s.hardware).error().message());
  if (!hw->can_run(wt->name)) return bad(s.weights_field, s.hardware + " cannot run " + wt->name + " weights");
  if (hw->cloud_usd_per_hour_mid() <= 0) return bad(s.hardware_field, s.hardware + " has no cloud price in the catalogue");
  auto model = LlmRoofline::create(make_llm_deployment(*shape, *wt, 2.0, *hw, w.devices_per_replica, std::nullopt));
  if (!model) return bad(s.hardware_field, model.error().message());
  auto m = make_service_model(*model, mix, w.max_tpot_s, hw->cloud_usd_per_hour_mid() * w.devices_per_replica);
  if (!m) return bad(s.model_field, s.model + " on " + s.hardware + ": " + m.error().message());
  return m;
}

// Videos: one per replica (devices_per_replica GPUs in sequence parallel) at a time, each tier's
// seconds per video from the video model.
Expected<ServiceModel> video_service_for(const DeployWorkload& w, const HardwareCatalogue& cat, const char* hw_field,
                                         const std::string& hw_name, const std::vector<VideoTier>& tiers) {
  auto bad = [&](const std::string& field, const std::string& what) { return invalid_argument(w.origin + ": field '" + field + "' " + what); };
  const Accelerator* hw = cat.find(hw_name);
  if (!hw) return bad(hw_field, "names unknown hardware: " + cat.get(hw_name).error().message());
  const double price = hw->cloud_usd_per_hour_mid();
  if (price <= 0) return bad(hw_field, hw_name + " has no cloud price in the catalogue");
  std::vector<double> seconds, shares;
  double longest = 0;
  for (const VideoTier& t : tiers) {
    VideoRequest r;
    const auto size = parse_video_resolution(t.resolution);
    r.width = size->first;
    r.height = size->second;
    r.frames = frames_for_seconds(t.seconds);
    r.steps = t.steps;
    r.gpus = w.devices_per_replica;
    auto plan = plan_video(*find_dit_config(t.model), r, *hw, price);
    if (!plan) return bad(hw_field, t.model + " on " + hw_name + ": " + plan.error().message());
    if (!plan->fits) return bad(hw_field, t.model + " at " + t.resolution + " does not fit in " + hw_name + "'s memory");
    seconds.push_back(plan->seconds);
    shares.push_back(t.share);
    longest = std::max(longest, plan->seconds);
  }
  return make_fixed_time_service_model(1, seconds, shares, longest, price * w.devices_per_replica, w.devices_per_replica);
}

struct Served {
  size_t region;
  double extra_s;  // network added to the site's p99: access + round trip to the site
};

// One site over the 24 UTC hours: replicas per hour and what the regions it serves see.
struct SiteDay {
  std::vector<int64_t> replicas = std::vector<int64_t>(24, 0);
  std::vector<SiteHour> hours = std::vector<SiteHour>(24);
  double busy_device_hours = 0, paid_device_hours = 0;
  double replica_hours = 0;
  int64_t peak = 0;
  double worst_ratio = 0, worst_p99 = 0, worst_budget = 0;
  std::string worst_region;
};

// Sizes a site for `rates` (requests/s per UTC hour): per hour (autoscaled) or for the day's
// largest need (static). The budget is the tightest of the served regions' budget - network.
SiteDay run_site(const DeployWorkload& w, const ServiceModel& m, const std::vector<double>& rates,
                 const std::vector<Served>& served, bool autoscaled) {
  double budget = kInf;
  for (const Served& s : served) budget = std::min(budget, w.regions[s.region].latency_budget_s - s.extra_s);
  SiteDay d;
  for (int h = 0; h < 24; ++h) {
    auto sized = size_site(m, rates[h], w.burstiness, budget, w.pricing.max_utilisation);
    if (!sized) sized = size_site(m, rates[h], w.burstiness, kInf, w.pricing.max_utilisation);  // priced, misses budget
    d.replicas[h] = sized ? sized->replicas : 0;
    d.peak = std::max(d.peak, d.replicas[h]);
  }
  for (int h = 0; h < 24; ++h) {
    if (!autoscaled) d.replicas[h] = d.peak;
    d.hours[h] = site_at(m, rates[h], w.burstiness, d.replicas[h]);
    const double paid = static_cast<double>(d.replicas[h] * m.devices_per_replica);
    d.paid_device_hours += paid;
    d.busy_device_hours += paid * std::min(1.0, d.hours[h].utilisation);
    d.replica_hours += static_cast<double>(d.replicas[h]);
    if (rates[h] <= 0) continue;
    for (const Served& s : served) {
      const DeployRegion& r = w.regions[s.region];
      if (r.share <= 0) continue;
      const double p99 = d.hours[h].p99_ttft_s + s.extra_s;
      if (p99 / r.latency_budget_s > d.worst_ratio) {
        d.worst_ratio = p99 / r.latency_budget_s;
        d.worst_p99 = p99;
        d.worst_budget = r.latency_budget_s;
        d.worst_region = r.name;
      }
    }
  }
  return d;
}

// Fills the common fields from sites priced at `usd_per_replica_hour` each.
void finish(ArchitecturePlan& p, const std::vector<std::pair<const SiteDay*, double>>& sites, const DeployPlan& plan,
            const std::vector<const ServiceModel*>& models) {
  double busy = 0, paid = 0, usd_per_day = 0;
  p.feasible = true;
  for (size_t i = 0; i < sites.size(); ++i) {
    const SiteDay& d = *sites[i].first;
    busy += d.busy_device_hours;
    paid += d.paid_device_hours;
    usd_per_day += d.replica_hours * sites[i].second;
    p.peak_replicas += d.peak;
    p.peak_devices += d.peak * models[i]->devices_per_replica;
    p.replica_hours_per_day += d.replica_hours;
    if (d.worst_ratio > (p.latency_budget_s > 0 ? p.p99_ttft_s / p.latency_budget_s : 0)) {
      p.p99_ttft_s = d.worst_p99;
      p.latency_budget_s = d.worst_budget;
      p.worst_region = d.worst_region;
    }
  }
  p.utilisation = paid > 0 ? busy / paid : 0;
  p.monthly_usd = usd_per_day * kHoursPerMonth / 24.0;
  p.usd_per_unit = p.monthly_usd / plan.units_per_month;
  p.meets_budget = p.latency_budget_s <= 0 || p.p99_ttft_s <= p.latency_budget_s * (1 + 1e-9);
}

double poisson_quantile(double mean, double q) {
  double term = std::exp(-mean), cdf = term;
  int64_t k = 0;
  while (cdf < q && k < 100000) {
    ++k;
    term *= mean / static_cast<double>(k);
    cdf += term;
  }
  return static_cast<double>(k);
}

}  // namespace

std::vector<double> pooled_rates(const DeployWorkload& w) {
  std::vector<double> out(24, 0.0);
  for (int h = 0; h < 24; ++h) {
    for (size_t r = 0; r < w.regions.size(); ++r) out[h] += w.region_rate_at(r, h);
  }
  return out;
}

Expected<DeployPlan> plan_deploy(const DeployWorkload& w, const HardwareCatalogue& cat) {
  DeployPlan plan;
  const DeployPricing& pr = w.pricing;
  const std::vector<double> pooled = pooled_rates(w);
  double requests_per_day = 0;
  for (double r : pooled) requests_per_day += r * 3600.0;
  plan.requests_per_month = requests_per_day * kHoursPerMonth / 24.0;
  plan.units_per_month = plan.requests_per_month * w.units_per_request();

  auto central = w.video ? video_service_for(w, cat, "hardware", w.hardware, w.video_mix)
                         : service_for(w, cat, {"model", w.model, "weights", w.weights, "hardware", w.hardware}, w.mix);
  if (!central) return central.error();
  plan.central = *central;
  const ServiceModel& m = *central;
  const double price = m.usd_per_hour_per_replica;
  std::vector<Served> to_central;
  for (size_t r = 0; r < w.regions.size(); ++r) {
    to_central.push_back({r, pr.access_rtt_s + region_rtt_s(w.regions[r].name, w.central_region)});
  }

  // Centralized, static and autoscaled.
  const SiteDay central_static = run_site(w, m, pooled, to_central, false);
  const SiteDay central_auto = run_site(w, m, pooled, to_central, true);
  ArchitecturePlan cs{"centralized"};
  finish(cs, {{&central_static, price}}, plan, {&m});
  cs.assumptions = {"one site in " + w.central_region + ", sized for the pooled peak hour, paid all day at on-demand prices",
                    "users reach it over the inter-region round trip"};
  plan.architectures.push_back(cs);
  ArchitecturePlan ca{"centralized-autoscaled"};
  finish(ca, {{&central_auto, price}}, plan, {&m});
  ca.assumptions = {"the central site rented by the hour, replicas follow each hour's need (no start-up lag)"};
  plan.architectures.push_back(ca);

  // Edge: a site per region, its own peak, no inter-region round trip.
  {
    std::vector<SiteDay> sites;
    for (size_t r = 0; r < w.regions.size(); ++r) {
      std::vector<double> rates(24);
      for (int h = 0; h < 24; ++h) rates[h] = w.region_rate_at(r, h);
      sites.push_back(run_site(w, m, rates, {{r, pr.access_rtt_s}}, false));
    }
    ArchitecturePlan e{"edge"};
    std::vector<std::pair<const SiteDay*, double>> priced;
    std::vector<const ServiceModel*> models;
    for (const SiteDay& s : sites) {
      priced.push_back({&s, price * pr.edge_price_factor});
      models.push_back(&m);
    }
    finish(e, priced, plan, models);
    e.assumptions = {"a site in each of the " + std::to_string(w.regions.size()) + " regions, each sized for its own peak, all day",
                     "edge price = on-demand x " + fmt("%.2f", pr.edge_price_factor)};
    plan.architectures.push_back(e);
  }

  // Hybrid: easy requests to the small edge model in each region, hard ones to the centre.
  {
    ArchitecturePlan hy{"hybrid"};
    std::vector<RequestClass> easy, hard;
    std::vector<VideoTier> easy_v, hard_v;
    double hard_share = 0;
    for (const RequestClass& c : w.video ? std::vector<RequestClass>{} : w.mix) {
      (c.hard ? hard : easy).push_back(c);
      if (c.hard) hard_share += c.share;
    }
    for (const VideoTier& t : w.video ? w.video_mix : std::vector<VideoTier>{}) {
      (t.hard ? hard_v : easy_v).push_back(t);
      if (t.hard) hard_share += t.share;
    }
    std::vector<SiteDay> sites;
    std::vector<std::pair<const SiteDay*, double>> priced;
    std::vector<const ServiceModel*> models;
    std::optional<ServiceModel> edge_m, hard_m;
    Status failed = Status::ok();
    if (!easy.empty() || !easy_v.empty()) {
      auto em = w.video ? video_service_for(w, cat, "edge_hardware", w.edge_hardware, easy_v)
                        : service_for(w, cat, {"edge_model", w.edge_model, "edge_weights", w.edge_weights, "edge_hardware", w.edge_hardware}, easy);
      if (!em) failed = em.error();
      else edge_m = *em;
    }
    if ((!hard.empty() || !hard_v.empty()) && failed) {
      auto hm = w.video ? video_service_for(w, cat, "hardware", w.hardware, hard_v)
                        : service_for(w, cat, {"model", w.model, "weights", w.weights, "hardware", w.hardware}, hard);
      if (!hm) failed = hm.error();
      else hard_m = *hm;
    }
    if (!failed) {
      hy.reason = "the edge model cannot serve: " + failed.message();
    } else {
      sites.reserve(w.regions.size() + 1);
      if (edge_m) {
        for (size_t r = 0; r < w.regions.size(); ++r) {
          std::vector<double> rates(24);
          for (int h = 0; h < 24; ++h) rates[h] = w.region_rate_at(r, h) * (1.0 - hard_share);
          sites.push_back(run_site(w, *edge_m, rates, {{r, pr.access_rtt_s}}, false));
          priced.push_back({&sites.back(), edge_m->usd_per_hour_per_replica * pr.edge_price_factor});
          models.push_back(&*edge_m);
        }
      }
      if (hard_m) {
        std::vector<double> rates(24);
        for (int h = 0; h < 24; ++h) rates[h] = pooled[h] * hard_share;
        sites.push_back(run_site(w, *hard_m, rates, to_central, false));
        priced.push_back({&sites.back(), hard_m->usd_per_hour_per_replica});
        models.push_back(&*hard_m);
      }
      finish(hy, priced, plan, models);
      const std::string edge_what = w.video ? std::string("the video tiers") : w.edge_model + " (" + w.edge_weights + ")";
      hy.assumptions = {edge_what + " on " + w.edge_hardware + " at each region for the " +
                            fmt("%.0f", 100 * (1 - hard_share)) + " % of requests not marked hard",
                        "the hard " + fmt("%.0f", 100 * hard_share) + " % on a central " + (w.video ? w.hardware : w.model) +
                            " site; both sized for their peaks",
                        "routing by the request's class (the 'hard' flag), not by frugal's router"};
    }
    plan.architectures.push_back(hy);
  }

  // Serverless: busy containers billed per second at a premium, scale to zero, cold starts.
  {
    ArchitecturePlan sv{"serverless"};
    sv.feasible = true;
    double usd_per_day = 0, busy = 0, billed = 0, cold_requests = 0, prev = 0;
    const double t = m.mean_service_s, slots = static_cast<double>(m.slots_per_replica);
    for (int h = 0; h < 24; ++h) {
      const double lambda = pooled[h];
      const double busy_containers = lambda * t / slots;
      // One container is warm a random instant with the coverage of Poisson shots of T + keep-warm.
      const double warm = 1.0 - std::exp(-lambda * (t + pr.serverless_keep_warm_s));
      const double p_cold = 1.0 - warm;
      const double scale_ups = std::max(0.0, std::ceil(busy_containers) - prev);  // new containers this hour
      prev = std::ceil(busy_containers);
      const double containers = std::max(busy_containers, warm) + lambda * p_cold * pr.serverless_cold_start_s +
                                scale_ups * pr.serverless_cold_start_s / 3600.0;
      usd_per_day += containers * price * pr.serverless_price_factor;
      busy += busy_containers;
      billed += containers;
      cold_requests += lambda * 3600.0 * p_cold;
      sv.peak_replicas = std::max<int64_t>(sv.peak_replicas, static_cast<int64_t>(std::ceil(containers)));
    }
    sv.peak_devices = sv.peak_replicas * m.devices_per_replica;
    sv.replica_hours_per_day = billed;
    sv.utilisation = billed > 0 ? busy / billed : 0;
    sv.monthly_usd = usd_per_day * kHoursPerMonth / 24.0;
    sv.usd_per_unit = sv.monthly_usd / plan.units_per_month;
    const double cold_share = cold_requests / requests_per_day;
    for (const Served& s : to_central) {
      const DeployRegion& r = w.regions[s.region];
      if (r.share <= 0) continue;
      const double p99 = m.first_token_s + s.extra_s + (cold_share > 1.0 - kLatencyQuantile ? pr.serverless_cold_start_s : 0.0);
      if (sv.latency_budget_s <= 0 || p99 / r.latency_budget_s > sv.p99_ttft_s / sv.latency_budget_s) {
        sv.p99_ttft_s = p99;
        sv.latency_budget_s = r.latency_budget_s;
        sv.worst_region = r.name;
      }
    }
    sv.meets_budget = sv.p99_ttft_s <= sv.latency_budget_s * (1 + 1e-9);
    sv.assumptions = {"per-second billing of busy containers at " + fmt("%.2f", pr.serverless_price_factor) +
                          "x the on-demand hour, ideal packing (" + std::to_string(m.slots_per_replica) + " requests per container)",
                      "scale to zero after " + fmt("%.0f", pr.serverless_keep_warm_s) + " s idle; cold start " +
                          fmt("%.0f", pr.serverless_cold_start_s) + " s (billed) hits " + fmt("%.2f", 100 * cold_share) +
                          " % of requests",
                      "no queueing: the platform scales instantly"};
    plan.architectures.push_back(sv);
  }

  // Spot on the autoscaled site: discount when available, on-demand fallback, spares, re-work.
  {
    SiteDay spot = central_auto;
    const double restart_h = pr.spot_restart_s / 3600.0;
    spot.peak = 0;
    spot.paid_device_hours = spot.replica_hours = 0;
    for (int h = 0; h < 24; ++h) {
      const double down = static_cast<double>(central_auto.replicas[h]) * pr.spot_preemptions_per_hour * restart_h;
      spot.replicas[h] = central_auto.replicas[h] + static_cast<int64_t>(poisson_quantile(down, kLatencyQuantile));
      spot.peak = std::max(spot.peak, spot.replicas[h]);
      spot.replica_hours += static_cast<double>(spot.replicas[h]);
      spot.paid_device_hours += static_cast<double>(spot.replicas[h] * m.devices_per_replica);
    }
    const double blended = pr.spot_availability * (1.0 - pr.spot_discount) + (1.0 - pr.spot_availability);
    // Billed while a replacement boots, and the in-flight work lost at a preemption (half a
    // request's slot time on average, over the slots in use) redone.
    const double rework = pr.spot_preemptions_per_hour * (restart_h + m.mean_service_s / 2.0 / 3600.0);
    ArchitecturePlan sp{"spot"};
    finish(sp, {{&spot, price * blended * (1.0 + rework)}}, plan, {&m});
    const double preempted_share = pr.spot_preemptions_per_hour * m.mean_service_s / 3600.0;
    if (preempted_share > 1.0 - kLatencyQuantile) sp.p99_ttft_s += m.mean_service_s;  // retried from the start
    sp.meets_budget = sp.p99_ttft_s <= sp.latency_budget_s * (1 + 1e-9);
    sp.assumptions = {"spot at " + fmt("%.0f", 100 * pr.spot_discount) + " % off, available " +
                          fmt("%.0f", 100 * pr.spot_availability) + " % of hours, else on-demand: " +
                          fmt("%.1f", 100 * (1 - blended)) + " % off on average",
                      fmt("%.3f", pr.spot_preemptions_per_hour) + " preemptions per replica-hour, " +
                          fmt("%.0f", pr.spot_restart_s) + " s to replace; spares held so a preemption burst fits at p99; "
                          "lost work and boot time billed (+" + fmt("%.2f", 100 * rework) + " %)"};
    plan.architectures.push_back(sp);
  }

  // Committed use: k replicas all day at a discount, the rest on demand by the hour.
  for (auto [name, discount] : {std::pair{"committed-1y", pr.committed_1y_discount}, {"committed-3y", pr.committed_3y_discount}}) {
    int64_t best_k = 0;
    double best_cost = kInf;
    for (int64_t k = 0; k <= central_auto.peak; ++k) {
      double cost = 0;
      for (int h = 0; h < 24; ++h) cost += static_cast<double>(k) * (1 - discount) + static_cast<double>(std::max<int64_t>(0, central_auto.replicas[h] - k));
      if (cost < best_cost - 1e-9) best_cost = cost, best_k = k;
    }
    SiteDay d = central_auto;
    d.paid_device_hours = d.replica_hours = 0;
    for (int h = 0; h < 24; ++h) {
      d.replicas[h] = std::max(central_auto.replicas[h], best_k);
      d.paid_device_hours += static_cast<double>(d.replicas[h] * m.devices_per_replica);
    }
    d.replica_hours = best_cost;  // in on-demand replica-hour equivalents
    ArchitecturePlan c{name};
    finish(c, {{&d, price}}, plan, {&m});
    c.replica_hours_per_day = 0;
    for (int h = 0; h < 24; ++h) c.replica_hours_per_day += static_cast<double>(d.replicas[h]);
    c.assumptions = {"commit to " + std::to_string(best_k) + " replicas at " + fmt("%.0f", 100 * discount) +
                         " % off (the cheapest commitment for this day), the rest on demand by the hour",
                     "paid for the whole term: if traffic falls, the commitment is still due"};
    plan.architectures.push_back(c);
  }

  // The winner: cheapest that meets every region's budget.
  for (size_t i = 0; i < plan.architectures.size(); ++i) {
    const ArchitecturePlan& a = plan.architectures[i];
    if (!a.feasible || !a.meets_budget) continue;
    if (plan.winner < 0 || a.monthly_usd < plan.architectures[plan.winner].monthly_usd) plan.winner = static_cast<int>(i);
  }
  if (plan.winner < 0) {
    plan.reason = "no architecture meets every region's p99 time-to-first-token budget";
    return plan;
  }
  const ArchitecturePlan& win = plan.architectures[plan.winner];
  const ArchitecturePlan* next = nullptr;
  for (const ArchitecturePlan& a : plan.architectures) {
    if (&a == &win || !a.feasible || !a.meets_budget) continue;
    if (!next || a.monthly_usd < next->monthly_usd) next = &a;
  }
  plan.reason = win.name + " is the cheapest that meets every region's p99 budget: USD " + fmt("%.0f", win.monthly_usd) +
                " per month (USD " + fmt(w.video ? "%.4g" : "%.3g", win.usd_per_unit) + " per " + w.unit() + ") at " +
                fmt("%.0f", 100 * win.utilisation) + " % utilisation";
  if (next) {
    plan.reason += ", " + fmt("%.1f", 100 * (1 - win.monthly_usd / next->monthly_usd)) + " % below " + next->name +
                   " (USD " + fmt("%.0f", next->monthly_usd) + ")";
  }
  std::string missed;
  for (const ArchitecturePlan& a : plan.architectures) {
    if (a.feasible && !a.meets_budget && a.monthly_usd < win.monthly_usd) {
      missed += (missed.empty() ? "" : ", ") + a.name + " (" + a.worst_region + " " + fmt("%.0f", a.p99_ttft_s * 1e3) + " ms > " +
                fmt("%.0f", a.latency_budget_s * 1e3) + " ms)";
    }
  }
  if (!missed.empty()) plan.reason += "; cheaper but missing a p99 budget: " + missed;
  return plan;
}

}  // namespace frugal
