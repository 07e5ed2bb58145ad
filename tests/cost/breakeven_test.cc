// Break-even: hand-computed cases, including "never".
#include <gtest/gtest.h>

#include "cost/breakeven.h"
#include "cost_test_util.h"

namespace frugal {
namespace {

TEST(BreakEven, HandComputedWin) {
  // One GPU at USD 2/h: 2 x 730 = USD 1,460 per month. It produces 1,000 tok/s = 2,628 Mtok/month.
  EXPECT_DOUBLE_EQ(monthly_rent_usd(2.0, 1), 1460.0);
  const BreakEvenInput in{1.0, 1460.0, 1000.0 * 730 * 3600 / 1e6};
  ASSERT_TRUE(break_even_volume(in).has_value());
  EXPECT_DOUBLE_EQ(*break_even_volume(in), 1460.0);  // USD 1,460 / USD 1 per Mtok
  const BreakEvenAt below = break_even_at(in, 1000);
  EXPECT_DOUBLE_EQ(below.api_usd, 1000.0);
  EXPECT_DOUBLE_EQ(below.self_host_usd, 1460.0);
  EXPECT_FALSE(below.self_host_wins);
  const BreakEvenAt above = break_even_at(in, 2000);
  EXPECT_TRUE(above.self_host_wins);
  // Past capacity a second deployment is needed: 3,000 Mtok -> 2 x 1,460 = 2,920 < 3,000.
  const BreakEvenAt two = break_even_at(in, 3000);
  EXPECT_EQ(two.deployments, 2);
  EXPECT_DOUBLE_EQ(two.self_host_usd, 2920.0);
  EXPECT_TRUE(two.self_host_wins);
}

TEST(BreakEven, NeverWhenCapacityIsBelowTheBreakEvenVolume) {
  // Same GPU producing only 100 tok/s = 262.8 Mtok/month: worth at most USD 262.8 at API prices.
  const BreakEvenInput in{1.0, 1460.0, 100.0 * 730 * 3600 / 1e6};
  EXPECT_FALSE(break_even_volume(in).has_value());
  for (double v : {10.0, 262.0, 263.0, 5000.0, 1e6}) EXPECT_FALSE(break_even_at(in, v).self_host_wins) << v;
}

TEST(BreakEven, VideosAndOwnership) {
  // USD 3/h H100 = 2,190 per month; API USD 0.20 per video -> 10,950 videos per month, if one
  // video takes <= 2,628,000 s / 10,950 = 240 s.
  const BreakEvenInput fast{0.20, monthly_rent_usd(3.0, 1), 730.0 * 3600 / 60};
  EXPECT_NEAR(*break_even_volume(fast), 10950.0, 1e-6);
  const BreakEvenInput slow{0.20, monthly_rent_usd(3.0, 1), 730.0 * 3600 / 300};
  EXPECT_FALSE(break_even_volume(slow).has_value());
  const auto curve = break_even_curve(fast, 100, 1e6, 20);
  ASSERT_EQ(curve.size(), 20u);
  EXPECT_NEAR(curve.front().volume_units, 100, 1e-9);
  EXPECT_NEAR(curve.back().volume_units, 1e6, 1e-6);
}

// Owned hardware includes the server around the device, the network and hosting (issue #24).
TEST(BreakEven, OwningIncludesHostNetworkPowerAndHosting) {
  const Accelerator h100 = testing::hardware("h100-sxm");
  ASSERT_TRUE(h100.has_host);
  EXPECT_GT(h100.host_server_usd, 0);
  EXPECT_GT(h100.host_network_usd, 0);
  EXPECT_GT(h100.host_watts, 0);
  const OwnershipCost own;  // 36 months, USD 0.15/kWh, PUE 1.56, USD 184 per kW-month
  auto c = monthly_own_usd(h100, 2, own);
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  // 2 x (30,000 + 5,000 + 1,400) / 36; IT load 2 x (700 + 575) W = 2.55 kW.
  EXPECT_NEAR(c->capital_usd, 2 * 36400.0 / 36, 1e-9);
  EXPECT_NEAR(c->electricity_usd, 2.55 * 1.56 * 730 * 0.15, 1e-9);
  EXPECT_NEAR(c->hosting_usd, 2.55 * 184, 1e-9);
  EXPECT_NEAR(c->total_usd(), c->capital_usd + c->electricity_usd + c->hosting_usd, 1e-9);
  // More than the device and its own power alone (what the planner used to charge).
  EXPECT_GT(c->total_usd(), 2 * (30000.0 / 36 + 0.7 * 1.5 * 730 * 0.15) * 1.5);
  // Every entry that is sold states its host figures with a source.
  const HardwareCatalogue catalogue = testing::builtin_catalogue();
  for (const Accelerator& a : catalogue.entries()) {
    if (a.purchase_usd <= 0) continue;
    EXPECT_TRUE(a.has_host) << a.name;
    EXPECT_FALSE(a.source_host.empty()) << a.name;
    EXPECT_TRUE(monthly_own_usd(a, 1, own).has_value()) << a.name;
  }
  // Not sold, or no host figures: an error that says why, not a price.
  auto graviton = monthly_own_usd(testing::hardware("graviton4"), 1, own);
  ASSERT_FALSE(graviton.has_value());
  EXPECT_NE(graviton.error().message().find("no purchase price"), std::string::npos);
  Accelerator bare = h100;
  bare.has_host = false;
  auto no_host = monthly_own_usd(bare, 1, own);
  ASSERT_FALSE(no_host.has_value());
  EXPECT_NE(no_host.error().message().find("'host'"), std::string::npos);
}

}  // namespace
}  // namespace frugal
