// `frugal plan deploy` end to end (needs the `frugal` target built): the three shipped workloads
// give three different winners, named in --json as `winner` with the reason; the text table; the
// flags-only simple case; video workloads; the --html report in headless Chromium; and bad input is exit code != 0 with a message naming the flag or field.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "common/subprocess.h"

namespace frugal {
namespace {

using nlohmann::json;
using testing::frugal_binary;
using testing::run_command;

std::string workload(const std::string& name) {
  return std::string(FRUGAL_TEST_DATA_DIR) + "/../../data/workloads/" + name + ".json";
}

TEST(CliPlanDeploy, ShippedWorkloadsHaveDifferentWinners) {
  std::set<std::string> winners;
  for (const char* name : {"steady", "diurnal", "multi-region"}) {
    auto r = run_command(frugal_binary() + " plan deploy --workload " + workload(name) + " --json 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const json j = json::parse(r.output);
    ASSERT_TRUE(j["winner"].is_string()) << r.output;
    winners.insert(j["winner"].get<std::string>());
    EXPECT_NE(j["reason"].get<std::string>().find(j["winner"].get<std::string>()), std::string::npos);
    ASSERT_EQ(j["architectures"].size(), 8u);
    double cheapest_meeting = 1e300;
    for (const json& a : j["architectures"]) {
      for (const char* key : {"monthly_usd", "usd_per_million_output_tokens", "utilisation", "p99_ttft_s", "latency_budget_s",
                              "meets_budget", "peak_devices", "assumptions"}) {
        EXPECT_TRUE(a.contains(key)) << name << " " << a["name"] << " " << key;
      }
      if (a["meets_budget"].get<bool>()) cheapest_meeting = std::min(cheapest_meeting, a["monthly_usd"].get<double>());
    }
    for (const json& a : j["architectures"]) {
      if (a["name"] == j["winner"]) EXPECT_EQ(a["monthly_usd"].get<double>(), cheapest_meeting);
    }
  }
  EXPECT_EQ(winners, (std::set<std::string>{"committed-3y", "spot", "edge"}));
}

TEST(CliPlanDeploy, VideoWorkloadIsPricedPerVideo) {
  auto r = run_command(frugal_binary() + " plan deploy --workload " + workload("video") + " --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json j = json::parse(r.output);
  EXPECT_EQ(j["kind"], "video");
  ASSERT_TRUE(j["winner"].is_string());
  for (const json& a : j["architectures"]) {
    ASSERT_TRUE(a.contains("usd_per_video")) << a;
    EXPECT_NEAR(a["usd_per_video"].get<double>() * j["videos_per_month"].get<double>(), a["monthly_usd"].get<double>(),
                1e-6 * a["monthly_usd"].get<double>());
  }
  r = run_command(frugal_binary() + " plan deploy --workload " + workload("video") + " 2>&1");
  EXPECT_NE(r.output.find("USD/video"), std::string::npos) << r.output;
}

TEST(CliPlanDeploy, TextTableAndTheSimpleCase) {
  auto r = run_command(frugal_binary() + " plan deploy --workload " + workload("diurnal") + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* s : {"centralized-autoscaled", "serverless", "committed-3y", "winner", "USD/M out", "p99 TTFT"}) {
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;
  }
  r = run_command(frugal_binary() + " plan deploy --requests-per-hour 50000 --model llama-3-8b --hardware h100-sxm "
                                    "--prompt-tokens 1000 --output-tokens 300 --ttft-p99-ms 800 --region eu-west --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json j = json::parse(r.output);
  EXPECT_NEAR(j["requests_per_hour"].get<double>(), 50000, 1e-9);
  EXPECT_EQ(j["central_region"], "eu-west");
  EXPECT_NEAR(j["architectures"][0]["latency_budget_s"].get<double>(), 0.8, 1e-9);
  // --requests-per-hour scales a workload file: ten times the traffic costs more per month.
  auto base = run_command(frugal_binary() + " plan deploy --workload " + workload("steady") + " --json 2>&1");
  auto more = run_command(frugal_binary() + " plan deploy --workload " + workload("steady") + " --requests-per-hour 30000000 --json 2>&1");
  ASSERT_EQ(base.exit_code, 0);
  ASSERT_EQ(more.exit_code, 0) << more.output;
  EXPECT_GT(json::parse(more.output)["architectures"][0]["monthly_usd"].get<double>(),
            5 * json::parse(base.output)["architectures"][0]["monthly_usd"].get<double>());
}

TEST(CliPlanDeploy, HtmlReportRendersCostVsTrafficInHeadlessChromium) {
  if (run_command("command -v chromium >/dev/null 2>&1").exit_code != 0) {
    if (std::getenv("CI") == nullptr) GTEST_SKIP() << "chromium not installed (apt-get install chromium)";
    FAIL() << "chromium is required in CI";
  }
  const auto dir = std::filesystem::temp_directory_path() / ("frugal_deploy_html_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "profile");
  const std::string html = (dir / "report.html").string();
  auto r = run_command(frugal_binary() + " plan deploy --workload " + workload("video") + " --html " + html + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("wrote the HTML report to " + html), std::string::npos) << r.output;
  r = run_command("chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
                  "--disable-sync --no-first-run --user-data-dir=" + (dir / "profile").string() + " --dump-dom file://" + html +
                  " 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string& dom = r.output;
  for (const char* id : {"chart-deploy-monthly-vs-traffic", "chart-deploy-unit-cost-vs-traffic", "chart-deploy-monthly-at-traffic"}) {
    EXPECT_NE(dom.find(std::string("<svg id=\"") + id + "\""), std::string::npos) << id << "\n" << dom.substr(0, 2000);
  }
  EXPECT_NE(dom.find("<polyline"), std::string::npos);
  // The video workload's winner changes with traffic: serverless at a trickle, spot at volume.
  EXPECT_NE(dom.find("serverless wins"), std::string::npos);
  EXPECT_NE(dom.find("Crossover: from about"), std::string::npos);
  EXPECT_NE(dom.find("spot wins"), std::string::npos);
  EXPECT_EQ(dom.find("<script"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(CliPlanDeploy, BadInputIsAClearError) {
  struct Case { std::string args; std::string fragment; };
  for (const Case& c : std::vector<Case>{
           {"--requests-per-hour -5", "requests_per_hour"},
           {"--requests-per-hour 100 --region mars", "unknown region 'mars'"},
           {"--requests-per-hour 100 --hardware tpu-v9", "tpu-v9"},
           {"--requests-per-hour 100 --output-tokens 0", "output_tokens"},
           {"--requests-per-hour 100 --burstiness -1", "burstiness"},
           {"", "--workload FILE or --requests-per-hour"},
           {"--workload /nonexistent/w.json", "/nonexistent/w.json"},
           {"--workload " + workload("steady") + " --model llama-3-70b", "--requests-per-hour may be added"},
           {"--workload " + workload("steady") + " --requests-per-hour 0", "requests_per_hour"},
           {"--workload " + workload("steady") + " --html /nonexistent/dir/r.html", "/nonexistent/dir/r.html"}}) {
    auto r = run_command(frugal_binary() + " plan deploy " + c.args + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.fragment), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;  // an error, not a crash
  }
}

}  // namespace
}  // namespace frugal
