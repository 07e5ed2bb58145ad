// The `plan deploy --html` report (cost layer): each architecture's monthly cost and cost per unit
// against traffic (the workload scaled from 1/100 to 10x its rate), the traffic where the winner
// changes (crossovers), and the costs at the workload's own traffic.
#pragma once

#include <string>
#include <vector>

#include "core/expected.h"
#include "cost/deploy_plan.h"
#include "cost/report_html.h"

namespace frugal {

struct DeployCrossover {
  double requests_per_hour = 0;  // the first swept rate at which `winner` wins
  std::string winner;            // empty: no architecture meets the budgets there
};

struct DeploySweep {
  std::vector<double> requests_per_hour;             // log-spaced
  std::vector<std::vector<ArchitecturePlan>> plans;  // per rate, the architectures in plan order
  std::vector<DeployCrossover> crossovers;           // the winner at the lowest rate, then each change
};

// Plans the workload at `points` log-spaced rates from lo_factor to hi_factor x its own.
Expected<DeploySweep> sweep_deploy(const DeployWorkload& w, const HardwareCatalogue& catalogue, double lo_factor,
                                   double hi_factor, int points);

HtmlReport deploy_report(const DeployWorkload& w, const DeployPlan& plan, const DeploySweep& sweep);

}  // namespace frugal
