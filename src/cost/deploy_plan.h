// Deployment architectures priced at an operator's traffic (cost layer): the same step-time model
// (deploy_site.h) under different ways of placing and buying capacity. Per UTC hour of a day each
// region's rate is its share x the daily mean x 24 x the profile at its local hour, and:
//  centralized             one site in the central region, pooled, sized for the pooled peak, all day;
//  centralized-autoscaled  the same site rented by the hour, sized for each hour;
//  edge                    a site in every region, each sized for its own peak (edge hardware is
//                          fixed: it does not follow the day), no inter-region round trip;
//  hybrid                  the small edge model at every region for requests not marked hard, the
//                          hard ones on a central site of the large model (both sized for their peaks);
//  serverless              per-second billing of busy containers in the central region (a price
//                          premium), scale to zero after a keep-warm window, cold starts;
//  spot                    the autoscaled site on spot capacity: discount x availability, on-demand
//                          fallback, a spare replica per hour for preemptions, re-work billed;
//  committed-1y / -3y      commit to k replicas all day at a discount, burst on demand; k is the
//                          cheapest commitment for this day's shape.
// Each plan: monthly USD (730 h), USD per million output tokens (or per video), utilisation (busy share of paid
// slot-hours), p99 TTFT of the worst region (network included) against its budget. The winner is
// the cheapest plan that meets every region's budget.
#pragma once

#include <string>
#include <vector>

#include "core/expected.h"
#include "cost/catalogue.h"
#include "cost/deploy_site.h"
#include "cost/deploy_workload.h"

namespace frugal {

struct ArchitecturePlan {
  std::string name;
  bool feasible = false;        // false: cannot serve at all (reason says why); nothing else is set
  std::string reason;
  double monthly_usd = 0;
  double usd_per_unit = 0;      // per million output tokens, or per video (DeployWorkload::unit())
  double utilisation = 0;       // busy slot-hours / paid slot-hours over the day
  double p99_ttft_s = 0;        // worst region: largest p99 / budget
  double latency_budget_s = 0;  // that region's budget
  std::string worst_region;
  bool meets_budget = false;
  int64_t peak_replicas = 0;    // replicas at the busiest hour (all sites)
  int64_t peak_devices = 0;
  double replica_hours_per_day = 0;
  std::vector<std::string> assumptions;
};

struct DeployPlan {
  std::vector<ArchitecturePlan> architectures;  // the order above
  int winner = -1;              // index into architectures; -1 when none meets the budgets
  std::string reason;           // why the winner wins (or why none does)
  double units_per_month = 0;   // million output tokens, or videos
  double requests_per_month = 0;
  ServiceModel central;         // the (large) model's site model on the central hardware
};

// Plans every architecture; errors for unknown models, weights or hardware (naming the field).
Expected<DeployPlan> plan_deploy(const DeployWorkload& w, const HardwareCatalogue& catalogue);

// The per-hour requests/s of the whole workload (UTC hours) and of one region.
std::vector<double> pooled_rates(const DeployWorkload& w);

}  // namespace frugal
