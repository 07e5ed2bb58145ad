// `serve --hardware this-machine`: this machine's vCPUs at the catalogue's cloud rate per vCPU-hour.
#include "cost/machine_price.h"

#include <gtest/gtest.h>

namespace frugal {
namespace {

TEST(MachinePrice, VcpusTimesTheCataloguesCloudRate) {
  auto catalogue = HardwareCatalogue::load_default();
  ASSERT_TRUE(catalogue) << catalogue.error().to_string();
  auto entry = catalogue->get(kVcpuPriceEntry);
  ASSERT_TRUE(entry);
  auto price = this_machine_price(*catalogue, 2);
  ASSERT_TRUE(price) << price.error().to_string();
  EXPECT_DOUBLE_EQ(price->usd_per_vcpu_hour, entry->cloud_usd_per_hour_low / kVcpuPriceEntryVcpus);
  EXPECT_DOUBLE_EQ(price->usd_per_hour, 2 * price->usd_per_vcpu_hour);
  EXPECT_GT(price->usd_per_hour, 0.0);
  EXPECT_EQ(price->source.rfind("this-machine: 2 vCPUs x USD", 0), 0u) << price->source;
  auto bigger = this_machine_price(*catalogue, 16);
  ASSERT_TRUE(bigger);
  EXPECT_DOUBLE_EQ(bigger->usd_per_hour, 8 * price->usd_per_hour);
}

TEST(MachinePrice, ErrorsAreNamed) {
  auto catalogue = HardwareCatalogue::load_default();
  ASSERT_TRUE(catalogue);
  EXPECT_FALSE(this_machine_price(*catalogue, 0));
  HardwareCatalogue empty;
  auto missing = this_machine_price(empty, 2);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find(kVcpuPriceEntry), std::string::npos) << missing.error().to_string();
}

}  // namespace
}  // namespace frugal
