// The sampler schedules against tests/data/wan/schedules.json: every (steps, shift) entry of
// UniPC, DPM++ and Euler must match exactly (timesteps equal, float32 sigmas bit-equal).
#include "video/samplers/schedule.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>
#include <string>

#include "common/test_data.h"
#include "sampler_test_util.h"

namespace frugal::video {
namespace {

using frugal::testing::data_path;
using frugal::testing::read_text_file;

struct ScheduleKey {
  int num_steps = 0;
  double shift = 0.0;
};

ScheduleKey parse_key(const std::string& key) {
  static const std::regex kPattern(R"(steps=(\d+),shift=([0-9.]+))");
  std::smatch match;
  EXPECT_TRUE(std::regex_match(key, match, kPattern)) << key;
  return {std::stoi(match[1]), std::stod(match[2])};
}

TEST(ScheduleTest, MatchesEveryOfficialSchedule) {
  const auto root = nlohmann::json::parse(read_text_file(data_path("wan/schedules.json")));
  const std::pair<const char*, SamplerKind> kSolvers[] = {
      {"unipc", SamplerKind::kUniPC}, {"dpmpp", SamplerKind::kDpmPlusPlus}, {"euler", SamplerKind::kEuler}};
  int entries = 0;
  int64_t max_sigma_ulps = 0;
  for (const auto& [json_name, kind] : kSolvers) {
    ASSERT_TRUE(root.contains(json_name)) << json_name;
    for (const auto& [key, entry] : root[json_name].items()) {
      const ScheduleKey params = parse_key(key);
      auto schedule = make_flow_schedule(kind, params.num_steps, params.shift);
      ASSERT_TRUE(schedule.has_value()) << schedule.error().to_string();
      const auto ref_timesteps = entry["timesteps"].get<std::vector<double>>();
      const auto ref_sigmas = entry["sigmas"].get<std::vector<double>>();
      ASSERT_EQ(schedule->timesteps.size(), ref_timesteps.size()) << json_name << " " << key;
      ASSERT_EQ(schedule->sigmas.size(), ref_sigmas.size()) << json_name << " " << key;
      for (size_t i = 0; i < ref_timesteps.size(); ++i) {
        // The JSON holds each value exactly (integers, or float32 values printed in full).
        EXPECT_EQ(schedule->timesteps[i], static_cast<float>(ref_timesteps[i])) << json_name << " " << key << " t" << i;
      }
      for (size_t i = 0; i < ref_sigmas.size(); ++i) {
        const auto ref = static_cast<float>(ref_sigmas[i]);
        ASSERT_EQ(static_cast<double>(ref), ref_sigmas[i]) << "sigma is not a float32 value";
        max_sigma_ulps = std::max(max_sigma_ulps, testing::ulp_distance(schedule->sigmas[i], ref));
        EXPECT_EQ(schedule->sigmas[i], ref) << json_name << " " << key << " sigma" << i;
      }
      EXPECT_EQ(schedule->sigmas.back(), 0.0f);
      ++entries;
    }
  }
  std::printf("[ schedules ] %d entries checked, max sigma difference %lld ulp (float32)\n", entries,
              static_cast<long long>(max_sigma_ulps));
  EXPECT_EQ(entries, 3 * 9 * 5);
}

TEST(ScheduleTest, FirstTimesteps) {
  // README: UniPC starts at sigma 0.9998 (t = 999), DPM++ and Euler at sigma 1 (t = 1000).
  EXPECT_EQ(make_flow_schedule(SamplerKind::kUniPC, 10, 5.0)->timesteps.front(), 999.0f);
  EXPECT_EQ(make_flow_schedule(SamplerKind::kDpmPlusPlus, 10, 5.0)->timesteps.front(), 1000.0f);
  EXPECT_EQ(make_flow_schedule(SamplerKind::kEuler, 10, 5.0)->sigmas.front(), 1.0f);
}

TEST(ScheduleTest, RejectsBadParameters) {
  for (const SamplerKind kind : {SamplerKind::kUniPC, SamplerKind::kDpmPlusPlus, SamplerKind::kEuler}) {
    EXPECT_EQ(make_flow_schedule(kind, 0, 5.0).error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(make_flow_schedule(kind, -3, 5.0).error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(make_flow_schedule(kind, kMaxFlowSteps + 1, 5.0).error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(make_flow_schedule(kind, 10, 0.0).error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(make_flow_schedule(kind, 10, -1.0).error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(make_flow_schedule(kind, 10, std::nan("")).error().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(make_flow_schedule(kind, kMaxFlowSteps, 5.0).has_value());
  }
}

TEST(ScheduleTest, SigmasDecreaseToZeroForOddSizes) {
  for (const SamplerKind kind : {SamplerKind::kUniPC, SamplerKind::kDpmPlusPlus, SamplerKind::kEuler}) {
    for (int steps : {1, 3, 7, 25, 333}) {
      for (double shift : {0.5, 1.0, 2.5, 17.0}) {
        auto schedule = make_flow_schedule(kind, steps, shift);
        ASSERT_TRUE(schedule.has_value());
        ASSERT_EQ(schedule->num_steps(), steps);
        ASSERT_EQ(schedule->sigmas.size(), static_cast<size_t>(steps + 1));
        for (int i = 0; i < steps; ++i) {
          EXPECT_GT(schedule->sigmas[i], schedule->sigmas[i + 1]);
          EXPECT_GE(schedule->timesteps[i], 0.0f);
          EXPECT_LE(schedule->timesteps[i], 1000.0f);
        }
        EXPECT_EQ(schedule->sigmas.back(), 0.0f);
      }
    }
  }
}

}  // namespace
}  // namespace frugal::video
