#include "cost/machine_price.h"

#include <cstdio>

namespace frugal {

Expected<MachinePrice> this_machine_price(const HardwareCatalogue& catalogue, int vcpus) {
  if (vcpus <= 0) return invalid_argument("this-machine price: vCPU count must be > 0, got " + std::to_string(vcpus));
  auto entry = catalogue.get(kVcpuPriceEntry);
  if (!entry) return entry.error();
  if (!(entry->cloud_usd_per_hour_low > 0)) {
    return invalid_argument(std::string("this-machine price: catalogue entry ") + kVcpuPriceEntry +
                            " has no cloud price; give --price-per-hour");
  }
  MachinePrice price;
  price.vcpus = vcpus;
  price.usd_per_vcpu_hour = entry->cloud_usd_per_hour_low / kVcpuPriceEntryVcpus;
  price.usd_per_hour = price.usd_per_vcpu_hour * vcpus;
  char text[256];
  std::snprintf(text, sizeof(text),
                "this-machine: %d vCPUs x USD %.4f per vCPU-hour (cloud rate: catalogue entry %s, USD %.2f/hour "
                "for %d vCPUs)",
                vcpus, price.usd_per_vcpu_hour, kVcpuPriceEntry, entry->cloud_usd_per_hour_low, kVcpuPriceEntryVcpus);
  price.source = text;
  return price;
}

}  // namespace frugal
