// Break-even between self-hosting and an API priced per unit (per million tokens or per video)
// for a monthly volume, capped by what one deployment can produce in a month (cost layer).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "cost/catalogue.h"

namespace frugal {

inline constexpr double kHoursPerMonth = 730.0;  // 8760 / 12

// Monthly cost of one deployment of `count` devices.
//  rent: count x usd_per_hour x 730.
//  own:  count x [(purchase + host server share + network share) / amortisation_months
//                 + IT kW x PUE x 730 h x usd_per_kwh          (electricity)
//                 + IT kW x colocation_usd_per_kw_month]        (space, cooling, power delivery)
//        with IT kW = (TDP + the host's watts per device) / 1000. The host figures come from the
//        catalogue entry's "host" object (with their sources); the site figures below are
//        defaults with sources in docs/COST-MODEL.md, overridable on the command line.
struct OwnershipCost {
  double amortisation_months = 36;           // 3-year straight-line depreciation
  double usd_per_kwh = 0.15;                 // assumption (US commercial rates are ~0.13)
  double pue = 1.56;                         // Uptime Institute Global Data Center Survey 2024 average
  double colocation_usd_per_kw_month = 184;  // CBRE North America Data Center Trends H2 2024 ($184.06)
};
double monthly_rent_usd(double usd_per_hour_per_device, int count);

struct MonthlyOwnCost {
  double capital_usd = 0;      // device + host server + network, amortised
  double electricity_usd = 0;
  double hosting_usd = 0;
  double total_usd() const { return capital_usd + electricity_usd + hosting_usd; }
};
// kInvalidArgument when the entry has no purchase price (not sold), no TDP or no host figures.
Expected<MonthlyOwnCost> monthly_own_usd(const Accelerator& hw, int count, const OwnershipCost& own);

struct BreakEvenInput {
  double api_usd_per_unit = 0;          // e.g. USD per million output tokens, or per video
  double deployment_usd_per_month = 0;  // one deployment (see above)
  double capacity_units_per_month = 0;  // what one deployment produces in a month at full use
};

struct BreakEvenAt {
  double volume_units = 0;
  double api_usd = 0;
  int64_t deployments = 0;  // ceil(volume / capacity), at least 1
  double self_host_usd = 0;
  bool self_host_wins = false;  // strictly cheaper
};

// Costs at one monthly volume.
BreakEvenAt break_even_at(const BreakEvenInput& in, double volume_units);

// The smallest volume where one deployment costs no more than the API (deployment cost / API
// price), or nullopt ("never") when that volume exceeds what the deployment can produce: then no
// number of deployments wins at any volume, since each produces less than it costs.
std::optional<double> break_even_volume(const BreakEvenInput& in);

// Points for a curve: `n` log-spaced volumes from lo to hi.
std::vector<BreakEvenAt> break_even_curve(const BreakEvenInput& in, double lo_units, double hi_units, int n);

}  // namespace frugal
