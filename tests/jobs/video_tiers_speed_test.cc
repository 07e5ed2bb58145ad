// The tiers' speed settings: attention mode / tile / window / keep / rest and the step-cache threshold are
// read from the tiers file, default to dense and off, and bad values are refused naming the tier.
#include <gtest/gtest.h>

#include "jobs/video_tiers.h"

namespace frugal::jobs {
namespace {

TEST(VideoTiersSpeed, AttentionAndStepCacheAreReadPerTier) {
  auto config = parse_video_service_config(R"({"default_tier": "a", "tiers": [
      {"name": "a"},
      {"name": "b", "attention": "sliding-tile", "attention_tile": [2, 4, 8], "attention_window": [1, 3, 5],
       "attention_warmup": 0.25, "step_cache": 0.15,
       "step_cache_mode": "extrapolate", "step_cache_max_skips": 1, "step_cache_uncond": 2.5,
       "step_cache_cond": 0.5, "step_cache_uncond_max_skips": 3, "step_cache_cfg": "delta",
       "step_cache_start": 0.1, "step_cache_end": 0.9, "step_cache_error_tol": 0.04},
      {"name": "c", "attention": "block-sparse", "attention_keep": 0.4, "attention_rest": "pooled"}]})");
  ASSERT_TRUE(config) << config.error().to_string();
  const TierPreset* a = config->find_tier("a");
  EXPECT_EQ(a->attention.mode, AttentionMode::kDense);
  EXPECT_EQ(a->step_cache, 0.0);
  const TierPreset* b = config->find_tier("b");
  EXPECT_EQ(b->attention.mode, AttentionMode::kSlidingTile);
  EXPECT_EQ(b->attention.tile, (std::array<int64_t, 3>{2, 4, 8}));
  EXPECT_EQ(b->attention.window, (std::array<int64_t, 3>{1, 3, 5}));
  EXPECT_DOUBLE_EQ(b->step_cache, 0.15);
  EXPECT_EQ(b->step_cache_mode, video::StepCacheMode::kExtrapolate);
  EXPECT_EQ(b->step_cache_max_skips, 1);
  EXPECT_DOUBLE_EQ(b->step_cache_uncond, 2.5);
  EXPECT_EQ(a->step_cache_mode, video::StepCacheMode::kReuse);
  EXPECT_EQ(a->step_cache_max_skips, 0);
  EXPECT_DOUBLE_EQ(a->step_cache_uncond, 1.0);
  EXPECT_DOUBLE_EQ(b->step_cache_cond, 0.5);
  EXPECT_EQ(b->step_cache_uncond_max_skips, 3);
  EXPECT_TRUE(b->step_cache_cfg_delta);
  EXPECT_DOUBLE_EQ(b->step_cache_start, 0.1);
  EXPECT_DOUBLE_EQ(b->step_cache_end, 0.9);
  EXPECT_DOUBLE_EQ(a->step_cache_cond, 1.0);
  EXPECT_EQ(a->step_cache_uncond_max_skips, -1);
  EXPECT_FALSE(a->step_cache_cfg_delta);
  EXPECT_DOUBLE_EQ(a->step_cache_start, 0.0);
  EXPECT_DOUBLE_EQ(a->step_cache_end, 1.0);
  EXPECT_DOUBLE_EQ(b->step_cache_error_tol, 0.04);
  EXPECT_EQ(a->step_cache_error_tol, 0.0) << "error control is off unless a tier sets it";
  EXPECT_DOUBLE_EQ(b->attention_warmup, 0.25);
  EXPECT_EQ(a->attention_warmup, 0.0);
  const TierPreset* c = config->find_tier("c");
  EXPECT_EQ(c->attention.mode, AttentionMode::kBlockSparse);
  EXPECT_DOUBLE_EQ(c->attention.keep, 0.4);
  EXPECT_EQ(c->attention.rest, AttentionRest::kPooled);
  EXPECT_EQ(b->attention.rest, AttentionRest::kDrop);
  for (const auto& d : default_video_service_config().tiers) EXPECT_EQ(d.attention.mode, AttentionMode::kDense) << d.name;
}

TEST(VideoTiersSpeed, BadSpeedSettingsAreRefused) {
  for (const char* bad : {R"({"default_tier": "a", "tiers": [{"name": "a", "attention": "sparse"}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "attention_keep": 0}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "attention_rest": "mean"}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "attention_keep": 1.5}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "attention_tile": [0, 4, 4]}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "attention_window": "3,3,3"}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "step_cache": -1}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "step_cache": 11}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "step_cache_mode": "taylor"}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "step_cache_max_skips": -1}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "step_cache_uncond": -2}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "step_cache_cond": -1}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "step_cache_uncond_max_skips": -2}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "step_cache_cfg": "both"}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "step_cache_start": 0.6, "step_cache_end": 0.5}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "step_cache_end": 1.5}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "step_cache_error_tol": -0.1}]})",
                          R"({"default_tier": "a", "tiers": [{"name": "a", "attention_warmup": 1.5}]})"}) {
    auto config = parse_video_service_config(bad);
    EXPECT_FALSE(config) << bad;
    if (!config) {
      EXPECT_EQ(config.error().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

}  // namespace
}  // namespace frugal::jobs
