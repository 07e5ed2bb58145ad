// The price of "this machine" for the live cost meter (cost layer): `serve --hardware this-machine`
// prices the server as the cloud would rent its CPUs, so a demo's cost_usd is a labelled estimate,
// never a silent zero. The rate per vCPU-hour is the catalogue's cheapest cloud CPU offer: the
// graviton4 entry's low price (AWS c8g.24xlarge on-demand, us-east-1) over that instance's 96 vCPUs.
#pragma once

#include <string>

#include "core/expected.h"
#include "cost/catalogue.h"

namespace frugal {

// The catalogue entry the per-vCPU rate comes from and its vCPU count (c8g.24xlarge: 96).
inline constexpr const char* kVcpuPriceEntry = "graviton4";
inline constexpr int kVcpuPriceEntryVcpus = 96;

struct MachinePrice {
  double usd_per_hour = 0;
  double usd_per_vcpu_hour = 0;
  int vcpus = 0;
  std::string source;  // "this-machine: 2 vCPUs x USD 0.0399/vCPU-hour (catalogue graviton4: ...)"
};

// vcpus: the CPUs the server may use (> 0). Errors: the catalogue lacks the entry or its price.
Expected<MachinePrice> this_machine_price(const HardwareCatalogue& catalogue, int vcpus);

}  // namespace frugal
