#include "cost/deploy_report.h"

#include <cmath>
#include <cstdio>

namespace frugal {
namespace {

std::string num(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

}  // namespace

Expected<DeploySweep> sweep_deploy(const DeployWorkload& w, const HardwareCatalogue& catalogue, double lo_factor,
                                   double hi_factor, int points) {
  if (!(lo_factor > 0) || !(hi_factor > lo_factor) || points < 2) return invalid_argument("bad traffic sweep");
  DeploySweep s;
  std::string last = "\x01";
  for (int i = 0; i < points; ++i) {
    DeployWorkload scaled = w;
    const double f = lo_factor * std::pow(hi_factor / lo_factor, static_cast<double>(i) / (points - 1));
    scaled.requests_per_hour = w.requests_per_hour * f;
    auto plan = plan_deploy(scaled, catalogue);
    if (!plan) return plan.error();
    s.requests_per_hour.push_back(scaled.requests_per_hour);
    s.plans.push_back(plan->architectures);
    const std::string winner = plan->winner >= 0 ? plan->architectures[plan->winner].name : "";
    if (winner != last) s.crossovers.push_back({scaled.requests_per_hour, winner});
    last = winner;
  }
  return s;
}

HtmlReport deploy_report(const DeployWorkload& w, const DeployPlan& plan, const DeploySweep& sweep) {
  HtmlReport r;
  const std::string per = w.video ? "video" : "M output tokens";
  r.title = "frugal plan deploy: " + w.name;
  r.summary = {{"traffic", num("%.0f", w.requests_per_hour) + (w.video ? " videos" : " requests") + " per hour on average"},
               {"regions", std::to_string(w.regions.size()) + " (central site " + w.central_region + ")"},
               {"winner", plan.winner >= 0 ? plan.architectures[plan.winner].name : "none"},
               {"why", plan.reason}};
  for (const ArchitecturePlan& a : plan.architectures) {
    if (!a.feasible) {
      r.summary.push_back({a.name, "cannot serve: " + a.reason});
      continue;
    }
    r.summary.push_back({a.name, "USD " + num("%.0f", a.monthly_usd) + " per month, USD " + num("%.4g", a.usd_per_unit) + " per " +
                                     per + ", utilisation " + num("%.1f", 100 * a.utilisation) + " %, p99 " +
                                     num("%.3g", a.p99_ttft_s) + " s of " + num("%.3g", a.latency_budget_s) + " s" +
                                     (a.meets_budget ? "" : " (MISSES the budget)")});
  }
  LineChart monthly{"chart-deploy-monthly-vs-traffic", "Monthly cost vs traffic per architecture",
                    w.video ? "videos per hour (daily mean)" : "requests per hour (daily mean)", "USD per month", true, true, {}};
  LineChart unit{"chart-deploy-unit-cost-vs-traffic", "Cost per " + per + " vs traffic per architecture",
                 monthly.x_label, "USD per " + per, true, true, {}};
  for (size_t k = 0; k < plan.architectures.size(); ++k) {
    ChartSeries m{plan.architectures[k].name, {}}, u{plan.architectures[k].name, {}};
    for (size_t i = 0; i < sweep.requests_per_hour.size(); ++i) {
      const ArchitecturePlan& a = sweep.plans[i][k];
      if (!a.feasible || a.monthly_usd <= 0) continue;
      m.points.push_back({sweep.requests_per_hour[i], a.monthly_usd});
      u.points.push_back({sweep.requests_per_hour[i], a.usd_per_unit});
    }
    if (!m.points.empty()) {
      monthly.series.push_back(m);
      unit.series.push_back(u);
    }
  }
  r.charts_svg.push_back(render_line_chart_svg(monthly));
  r.charts_svg.push_back(render_line_chart_svg(unit));
  BarChart bars{"chart-deploy-monthly-at-traffic", "Monthly cost at the workload's traffic", "USD per month", {}};
  for (const ArchitecturePlan& a : plan.architectures) {
    if (a.feasible) bars.bars.push_back({a.name + (a.meets_budget ? "" : " (misses)"), a.monthly_usd});
  }
  r.charts_svg.push_back(render_bar_chart_svg(bars));
  const std::string what = w.video ? " videos" : " requests";
  for (size_t i = 0; i < sweep.crossovers.size(); ++i) {
    const DeployCrossover& c = sweep.crossovers[i];
    const std::string rate = num(c.requests_per_hour >= 10 ? "%.0f" : "%.3g", c.requests_per_hour) + what + " per hour";
    const std::string who = c.winner.empty() ? std::string("no architecture meets the budgets") : c.winner + " wins";
    r.notes.push_back(i == 0 ? "At " + rate + " (the lowest rate swept, 1/100 of the workload's) " + who + "."
                             : "Crossover: from about " + rate + ", " + who + " (" + std::to_string(sweep.requests_per_hour.size()) +
                                   " log-spaced rates up to 10x the workload's).");
  }
  for (const ArchitecturePlan& a : plan.architectures) {
    for (const std::string& s : a.assumptions) r.notes.push_back(a.name + ": " + s);
  }
  r.notes.push_back("Model and sources: docs/COST-MODEL.md, 'Deployment architectures'.");
  return r;
}

}  // namespace frugal
