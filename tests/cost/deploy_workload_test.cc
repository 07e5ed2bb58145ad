// The deployment planner's workload input: the shipped examples parse, and every bad input is an
// error that names the file and the field (negative or zero traffic, unknown regions, a profile
// that does not sum to 1, shares that do not sum to 1, bad request sizes, unknown fields, bad JSON)
// or, for the model and hardware, the field plan_deploy reads them from.
#include <gtest/gtest.h>

#include <string>

#include "cost/deploy_plan.h"
#include "cost/deploy_workload.h"
#include "cost_test_util.h"

namespace frugal {
namespace {

std::string workload_path(const std::string& name) {
  return std::string(FRUGAL_TEST_DATA_DIR) + "/../../data/workloads/" + name + ".json";
}

// A valid document built from its parts, so each test breaks exactly one of them.
std::string doc(const std::string& requests = "1000", const std::string& profile = "",
                const std::string& regions = R"([{"name": "us-east", "share": 1.0, "latency_budget_ms": 2000}])",
                const std::string& mix = R"([{"share": 1.0, "prompt_tokens": 512, "output_tokens": 128}])",
                const std::string& extra = "") {
  std::string s = "{\"requests_per_hour\": " + requests + ", \"regions\": " + regions + ", \"mix\": " + mix;
  if (!profile.empty()) s += ", \"profile\": " + profile;
  if (!extra.empty()) s += ", " + extra;
  return s + "}";
}

void expect_error(const std::string& text, const std::vector<std::string>& fragments) {
  auto w = parse_deploy_workload(text, "w.json");
  ASSERT_FALSE(w.has_value()) << text;
  const std::string msg = w.error().message();
  EXPECT_EQ(w.error().code(), StatusCode::kInvalidArgument) << msg;
  EXPECT_NE(msg.find("w.json"), std::string::npos) << msg;
  for (const std::string& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
}

TEST(DeployWorkload, ShippedExamplesParse) {
  for (const char* name : {"steady", "diurnal", "multi-region", "video"}) {
    auto w = load_deploy_workload(workload_path(name));
    ASSERT_TRUE(w.has_value()) << name << ": " << w.error().to_string();
    double daily = 0;
    for (int h = 0; h < 24; ++h) {
      for (size_t r = 0; r < w->regions.size(); ++r) daily += w->region_rate_at(r, h) * 3600;
    }
    EXPECT_NEAR(daily, 24 * w->requests_per_hour, 1e-3 * daily) << name;  // the profile is a day's shares
  }
  auto multi = load_deploy_workload(workload_path("multi-region"));
  ASSERT_TRUE(multi.has_value());
  EXPECT_EQ(multi->regions.size(), 4u);
  EXPECT_EQ(multi->regions[2].utc_offset_hours, 9);  // ap-northeast from the region table
}

TEST(DeployWorkload, DefaultsAndTheLocalTimeProfile) {
  std::string profile = "[";
  for (int h = 0; h < 24; ++h) profile += std::string(h ? ", " : "") + (h == 12 ? "1" : "0");
  profile += "]";
  auto w = parse_deploy_workload(doc("2400", profile, R"([{"name": "ap-northeast", "share": 1}])"), "w.json");
  ASSERT_TRUE(w.has_value()) << w.error().to_string();
  // All of the day's 57,600 requests in local noon = 03:00 UTC (UTC+9).
  EXPECT_NEAR(w->region_rate_at(0, 3) * 3600, 57600, 1e-6);
  EXPECT_EQ(w->region_rate_at(0, 12), 0);
  EXPECT_EQ(w->central_region, "ap-northeast");  // the largest region by default
  EXPECT_NEAR(w->regions[0].latency_budget_s, 2.0, 1e-12);
}

TEST(DeployWorkload, BadTrafficIsAnErrorNamingTheField) {
  expect_error(doc("-5"), {"requests_per_hour", ">", "-5"});
  expect_error(doc("0"), {"requests_per_hour"});
  expect_error(doc("\"lots\""), {"requests_per_hour", "number"});
  expect_error("{\"regions\": []}", {"requests_per_hour", "required"});
  expect_error(doc("1000", "", R"([{"name": "us-east", "share": 1}])", R"([{"share": 1}])", "\"burstiness\": 0"), {"burstiness"});
}

TEST(DeployWorkload, ProfileMustHave24NonNegativeHoursSummingToOne) {
  expect_error(doc("1000", "[0.5, 0.5]"), {"profile", "24"});
  std::string sums_to_two = "[", negative = "[";
  for (int h = 0; h < 24; ++h) {
    sums_to_two += std::string(h ? ", " : "") + "0.0833333";
    negative += std::string(h ? ", " : "") + (h == 5 ? "-0.1" : h == 6 ? "0.1416666" : "0.0416666");
  }
  sums_to_two += ", 0.0]";  // 25 entries
  expect_error(doc("1000", sums_to_two), {"profile", "24"});
  std::string doubled = "[";
  for (int h = 0; h < 24; ++h) doubled += std::string(h ? ", " : "") + "0.0833333";
  expect_error(doc("1000", doubled + "]"), {"profile", "sum to 1", "2"});
  expect_error(doc("1000", negative + "]"), {"profile[5]", ">= 0"});
}

TEST(DeployWorkload, RegionsMustBeKnownUniqueAndShareOne) {
  expect_error(doc("1000", "", R"([{"name": "mars-north", "share": 1}])"), {"regions[0].name", "unknown region 'mars-north'", "us-east"});
  expect_error(doc("1000", "", R"([{"name": "us-east", "share": 0.5}, {"name": "us-east", "share": 0.5}])"),
               {"regions[1].name", "repeats"});
  expect_error(doc("1000", "", R"([{"name": "us-east", "share": 0.5}, {"name": "eu-west", "share": 0.4}])"),
               {"regions", "sum to 1", "0.9"});
  expect_error(doc("1000", "", R"([{"name": "us-east", "share": 1.2}, {"name": "eu-west", "share": -0.2}])"),
               {"regions[0].share", "<= 1"});
  expect_error(doc("1000", "", R"([{"name": "us-east", "share": 1, "latency_budget_ms": -1}])"), {"regions[0].latency_budget_ms"});
  expect_error(doc("1000", "", R"([{"name": "us-east", "share": 1, "utc_offset_hours": 30}])"), {"regions[0].utc_offset_hours"});
  expect_error(doc("1000", "", R"([{"share": 1}])"), {"regions[0].name", "required"});
  expect_error(doc("1000", "", R"([])"), {"regions", "at least one"});
  expect_error(doc("1000", "", R"([{"name": "us-east", "share": 1}])", R"([{"share": 1}])", "\"central_region\": \"moon\""),
               {"central_region", "unknown region 'moon'"});
}

TEST(DeployWorkload, RequestMixMustBeValid) {
  const std::string one = R"([{"name": "us-east", "share": 1}])";
  expect_error(doc("1000", "", one, R"([{"share": 1, "output_tokens": -3}])"), {"mix[0].output_tokens", ">= 1"});
  expect_error(doc("1000", "", one, R"([{"share": 1, "prompt_tokens": 0}])"), {"mix[0].prompt_tokens"});
  expect_error(doc("1000", "", one, R"([{"share": 0.3}, {"share": 0.3}])"), {"mix", "sum to 1", "0.6"});
  expect_error(doc("1000", "", one, R"([{"share": 1, "hard": "yes"}])"), {"mix[0].hard"});
  expect_error(doc("1000", "", one, R"([{"share": 1, "prompt_tokens": 1.5}])"), {"mix[0].prompt_tokens", "integer"});
}

TEST(DeployWorkload, UnknownFieldsBadPricingAndBadJson) {
  expect_error(doc("1000", "", R"([{"name": "us-east", "share": 1}])", R"([{"share": 1}])", "\"request_per_hour\": 5"),
               {"request_per_hour", "not a workload field"});
  expect_error(doc("1000", "", R"([{"name": "us-east", "share": 1}])", R"([{"share": 1}])", "\"pricing\": {\"spot_discount\": 1.5}"),
               {"pricing.spot_discount"});
  expect_error(doc("1000", "", R"([{"name": "us-east", "share": 1}])", R"([{"share": 1}])", "\"pricing\": {\"spot_discount\": 1}"),
               {"pricing.spot_discount", "< 1"});
  expect_error(doc("1000", "", R"([{"name": "us-east", "share": 1}])", R"([{"share": 1}])", "\"pricing\": {\"max_utilisation\": 0}"),
               {"pricing.max_utilisation"});
  expect_error("{\"requests_per_hour\": 10,", {"not valid JSON"});
  auto missing = load_deploy_workload("/nonexistent/w.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("/nonexistent/w.json"), std::string::npos);
}

TEST(DeployWorkload, VideoTiersMustBeValid) {
  const std::string one = R"([{"name": "us-east", "share": 1, "latency_budget_ms": 600000}])";
  auto video = [&](const std::string& tiers, const std::string& extra = "") {
    std::string s = "{\"kind\": \"video\", \"requests_per_hour\": 10, \"regions\": " + one + ", \"video_mix\": " + tiers;
    return s + (extra.empty() ? "" : ", " + extra) + "}";
  };
  auto ok = parse_deploy_workload(video(R"([{"share": 1, "model": "wan2.1-t2v-14b", "resolution": "720p"}])"), "w.json");
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_TRUE(ok->video);
  EXPECT_EQ(ok->units_per_request(), 1.0);
  expect_error(video(R"([{"share": 1, "model": "sora-9"}])"), {"video_mix[0].model", "sora-9", "wan2.1-t2v-1.3b"});
  expect_error(video(R"([{"share": 1, "resolution": "potato"}])"), {"video_mix[0].resolution", "potato", "480p"});
  expect_error(video(R"([{"share": 1, "steps": 0}])"), {"video_mix[0].steps"});
  expect_error(video(R"([{"share": 1, "seconds": -5}])"), {"video_mix[0].seconds"});
  expect_error(video(R"([{"share": 0.5}])"), {"video_mix", "sum to 1"});
  expect_error(video(R"([])"), {"video_mix", "at least one"});
  expect_error(video(R"([{"share": 1}])", R"("mix": [{"share": 1}])"), {"'mix'", "video_mix"});
  expect_error(doc("10", "", one, R"([{"share": 1}])", R"("video_mix": [{"share": 1}])"), {"video_mix", "kind"});
  expect_error(doc("10", "", one, R"([{"share": 1}])", R"("kind": "audio")"), {"kind", "audio"});
}

TEST(DeployWorkload, UnknownModelWeightsOrHardwareNameTheField) {
  const HardwareCatalogue cat = testing::builtin_catalogue();
  const std::string one = R"([{"name": "us-east", "share": 1}])", mix = R"([{"share": 1}])";
  struct Case { std::string extra; std::vector<std::string> fragments; };
  for (const Case& c : std::vector<Case>{{"\"hardware\": \"tpu-v9\"", {"'hardware'", "tpu-v9"}},
                                         {"\"model\": \"llama-9-9000b\"", {"'model'", "llama-9-9000b"}},
                                         {"\"weights\": \"q1_z\"", {"'weights'", "q1_z"}},
                                         {"\"hardware\": \"gaudi3\", \"weights\": \"q4_k_m\"", {"'weights'", "cannot run"}},
                                         {"\"edge_hardware\": \"nope\"", {"'edge_hardware'"}},
                                         {"\"devices_per_replica\": 0", {"devices_per_replica"}}}) {
    auto w = parse_deploy_workload(doc("1000", "", one, mix, c.extra), "w.json");
    std::string msg;
    if (!w) {
      msg = w.error().message();
    } else {
      auto plan = plan_deploy(*w, cat);
      if (plan && c.extra.find("edge_hardware") != std::string::npos) {
        // A bad edge model only stops the hybrid plan, which says why.
        msg = plan->architectures[3].reason;
        EXPECT_FALSE(plan->architectures[3].feasible);
      } else {
        ASSERT_FALSE(plan.has_value()) << c.extra;
        msg = plan.error().message();
      }
    }
    EXPECT_NE(msg.find("w.json"), std::string::npos) << msg;
    for (const std::string& f : c.fragments) EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
  }
}

}  // namespace
}  // namespace frugal
