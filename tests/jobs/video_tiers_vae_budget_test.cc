// The tiers' VAE memory budget: "vae_mem_budget" per tier (a size such as "4GiB" or a byte count), the
// root's value as every tier's default, none by default, and malformed values refused naming the tier.
#include <gtest/gtest.h>

#include "jobs/video_tiers.h"

namespace frugal::jobs {
namespace {

TEST(VideoTiersVaeBudget, ReadPerTierWithTheRootAsDefault) {
  auto config = parse_video_service_config(R"({"default_tier": "a", "vae_mem_budget": "6GiB", "tiers": [
      {"name": "a"}, {"name": "b", "vae_mem_budget": "4 GiB"}, {"name": "c", "vae_mem_budget": 1073741824},
      {"name": "d", "vae_mem_budget": ""}]})");
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->find_tier("a")->vae_mem_budget, int64_t{6} << 30);
  EXPECT_EQ(config->find_tier("b")->vae_mem_budget, int64_t{4} << 30);
  EXPECT_EQ(config->find_tier("c")->vae_mem_budget, int64_t{1} << 30);
  EXPECT_EQ(config->find_tier("d")->vae_mem_budget, 0);
  auto plain = parse_video_service_config(R"({"default_tier": "a", "tiers": [{"name": "a"}]})");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->find_tier("a")->vae_mem_budget, 0);
  for (const auto& d : default_video_service_config().tiers) EXPECT_EQ(d.vae_mem_budget, 0) << d.name;
}

TEST(VideoTiersVaeBudget, MalformedBudgetsAreRefused) {
  for (const char* bad : {R"({"default_tier": "a", "tiers": [{"name": "a", "vae_mem_budget": "4 lots"}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "vae_mem_budget": -5}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "vae_mem_budget": 1.5}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "vae_mem_budget": [4]}]})",
                          R"({"default_tier": "a", "vae_mem_budget": "0", "tiers": [{"name": "a"}]})"}) {
    auto config = parse_video_service_config(bad);
    EXPECT_FALSE(config) << bad;
    if (!config) {
      EXPECT_EQ(config.error().code(), StatusCode::kInvalidArgument) << bad;
      EXPECT_NE(config.error().message().find("vae_mem_budget"), std::string::npos) << config.error().message();
    }
  }
}

}  // namespace
}  // namespace frugal::jobs
