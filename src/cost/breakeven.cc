#include "cost/breakeven.h"

#include <algorithm>
#include <cmath>

namespace frugal {

double monthly_rent_usd(double usd_per_hour_per_device, int count) {
  return usd_per_hour_per_device * count * kHoursPerMonth;
}

Expected<MonthlyOwnCost> monthly_own_usd(const Accelerator& hw, int count, const OwnershipCost& own) {
  const std::string where = "cannot price owning '" + hw.name + "': ";
  if (hw.purchase_usd <= 0) return invalid_argument(where + "its catalogue entry has no purchase price (not sold)");
  if (hw.tdp_watts <= 0) return invalid_argument(where + "its catalogue entry has no TDP");
  if (!hw.has_host) {
    return invalid_argument(where + "its catalogue entry has no 'host' figures (server, network and power around "
                            "the device); add {\"server_usd_per_device\", \"network_usd_per_device\", "
                            "\"watts_per_device\", \"source\"}");
  }
  if (own.amortisation_months <= 0) return invalid_argument("amortisation months must be > 0");
  const double it_kw = (hw.tdp_watts + hw.host_watts) / 1000.0;
  MonthlyOwnCost c;
  c.capital_usd = count * (hw.purchase_usd + hw.host_server_usd + hw.host_network_usd) / own.amortisation_months;
  c.electricity_usd = count * it_kw * own.pue * kHoursPerMonth * own.usd_per_kwh;
  c.hosting_usd = count * it_kw * own.colocation_usd_per_kw_month;
  return c;
}

BreakEvenAt break_even_at(const BreakEvenInput& in, double volume_units) {
  BreakEvenAt at;
  at.volume_units = volume_units;
  at.api_usd = volume_units * in.api_usd_per_unit;
  const double needed = in.capacity_units_per_month > 0 ? std::ceil(volume_units / in.capacity_units_per_month) : 1.0;
  at.deployments = std::max<int64_t>(1, static_cast<int64_t>(needed));
  at.self_host_usd = static_cast<double>(at.deployments) * in.deployment_usd_per_month;
  at.self_host_wins = at.self_host_usd < at.api_usd;
  return at;
}

std::optional<double> break_even_volume(const BreakEvenInput& in) {
  if (in.api_usd_per_unit <= 0 || in.capacity_units_per_month <= 0) return std::nullopt;
  const double volume = in.deployment_usd_per_month / in.api_usd_per_unit;
  if (volume > in.capacity_units_per_month) return std::nullopt;
  return volume;
}

std::vector<BreakEvenAt> break_even_curve(const BreakEvenInput& in, double lo_units, double hi_units, int n) {
  std::vector<BreakEvenAt> out;
  if (n < 2 || lo_units <= 0 || hi_units <= lo_units) return out;
  const double step = std::log(hi_units / lo_units) / (n - 1);
  for (int i = 0; i < n; ++i) out.push_back(break_even_at(in, lo_units * std::exp(step * i)));
  return out;
}

}  // namespace frugal
