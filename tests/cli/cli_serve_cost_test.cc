// `frugal serve` with the live cost meter: --price-per-hour and --hardware put cost_usd in every
// response's usage and the cost families in /metrics; bad prices and unknown hardware fail clearly.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <regex>

#include "common/curl_client.h"
#include "common/serve_process.h"
#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal {
namespace {

using json = nlohmann::json;
using testing::data_path;
using testing::frugal_binary;
using testing::run_command;

std::string catalogue_path() { return std::string(FRUGAL_TEST_DATA_DIR) + "/../../data/hardware/catalogue.json"; }

json post_completion(int port, const std::string& body) { return testing::curl_post_json(port, "/v1/completions", body); }

std::string scrape(int port) { return testing::curl_get(port, "/metrics"); }

// The value of a sample line `name value` in the exposition, -1 if absent.
double sample(const std::string& text, const std::string& name) {
  const std::regex line("(^|\n)" + std::regex_replace(name, std::regex(R"([{}"\\])"), R"(\$&)") + " ([^\n]+)");
  std::smatch match;
  return std::regex_search(text, match, line) ? std::stod(match[2]) : -1;
}

TEST(CliServeCost, PricePerHourPutsCostInUsageAndMetrics) {
  testing::ServeProcess server({"--price-per-hour", "3.6"});
  const int port = server.wait_for_port();
  ASSERT_GT(port, 0) << server.log();
  EXPECT_NE(server.log().find("cost meter: USD 3.6000 per hour"), std::string::npos) << server.log();
  const json body = post_completion(port, R"({"prompt": "a b c d e f", "max_tokens": 8, "temperature": 0})");
  ASSERT_TRUE(body.contains("usage")) << body;
  const json& usage = body["usage"];
  const double cost = usage["cost_usd"].get<double>();
  const double seconds = usage["compute_seconds"].get<double>();
  EXPECT_GT(cost, 0.0);
  EXPECT_GT(seconds, 0.0);
  EXPECT_NEAR(cost, seconds * 3.6 / 3600.0, 1e-12 + 1e-9 * cost);

  const std::string metrics = scrape(port);
  EXPECT_DOUBLE_EQ(sample(metrics, "frugal_price_usd_per_hour"), 3.6) << metrics;
  // The only request so far: its cost is the meter's total (within 1 %).
  const double total = sample(metrics, "frugal_cost_usd_total");
  EXPECT_NEAR(cost / total, 1.0, 0.01) << cost << " vs " << total;
  EXPECT_NEAR(seconds / sample(metrics, "frugal_compute_seconds_total"), 1.0, 0.01);
  EXPECT_GT(sample(metrics, "frugal_cost_usd_per_million_tokens{tokens=\"all\"}"), 0.0) << metrics;
  EXPECT_GT(sample(metrics, "frugal_cost_usd_per_million_tokens{tokens=\"generated\"}"),
            sample(metrics, "frugal_cost_usd_per_million_tokens{tokens=\"all\"}"))
      << "fewer generated tokens than processed ones";
}

TEST(CliServeCost, HardwarePriceIsTheMidpointOfItsCloudRange) {
  const json catalogue = json::parse(testing::read_text_file(catalogue_path()));
  json entry;
  for (const json& e : catalogue["entries"]) {
    if (e["name"] == "h100-sxm") entry = e;
  }
  ASSERT_FALSE(entry.is_null()) << "the built-in catalogue lists h100-sxm";
  const double mid = 0.5 * (entry["cloud_usd_per_hour"]["low"].get<double>() + entry["cloud_usd_per_hour"]["high"].get<double>());
  testing::ServeProcess server({"--hardware", "h100-sxm"});
  const int port = server.wait_for_port();
  ASSERT_GT(port, 0) << server.log();
  EXPECT_NE(server.log().find("h100-sxm: midpoint"), std::string::npos) << server.log();
  EXPECT_DOUBLE_EQ(sample(scrape(port), "frugal_price_usd_per_hour"), mid);
  const json body = post_completion(port, R"({"prompt": "hello", "max_tokens": 3})");
  EXPECT_NEAR(body["usage"]["cost_usd"].get<double>(), body["usage"]["compute_seconds"].get<double>() * mid / 3600.0,
              1e-12) << body;
  EXPECT_GT(body["usage"]["cost_usd"].get<double>(), 0.0);
}

TEST(CliServeCost, UnknownHardwareOrMissingPriceFailsClearly) {
  const std::string base = frugal_binary() + " serve -m " + data_path("models/small-q8_0.gguf") + " --port 0 ";
  auto r = run_command(base + "--hardware no-such-gpu 2>&1 </dev/null");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("no-such-gpu"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("listening"), std::string::npos) << r.output;

  r = run_command(base + "--price-per-hour -2 2>&1 </dev/null");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--price-per-hour"), std::string::npos) << r.output;

  // A catalogue entry that is not rentable (no cloud price) needs --price-per-hour.
  json catalogue = json::parse(testing::read_text_file(catalogue_path()));
  json entry = catalogue["entries"][0];
  entry["name"] = "owned-box";
  entry["cloud_usd_per_hour"] = nullptr;
  const std::string path = ::testing::TempDir() + "frugal_cost_catalogue_" + std::to_string(getpid()) + ".json";
  std::ofstream(path) << json{{"entries", json::array({entry})}}.dump();
  r = run_command(base + "--hardware owned-box --catalogue " + path + " 2>&1 </dev/null");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("no cloud price"), std::string::npos) << r.output;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace frugal
