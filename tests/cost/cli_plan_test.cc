// `frugal plan` end to end: --json keys, this-machine with a calibration file, user catalogue
// errors, and the --html report rendered in headless Chromium (needs the `frugal` target built).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/subprocess.h"
#include "cost/calibration.h"

namespace frugal {
namespace {

using nlohmann::json;
using testing::frugal_binary;
using testing::run_command;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("frugal_plan_test_" + std::to_string(::getpid()) + "_" + name)).string();
}

TEST(CliPlan, LlmJsonHasTheDocumentedKeys) {
  auto r = run_command(frugal_binary() + " plan llm --model llama-3-70b --hardware h200 --weights fp8 --batch 8 "
                                         "--context 4096 --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json j = json::parse(r.output);
  for (const char* key : {"fits", "memory_bytes", "prefill_tokens_per_s", "decode_tokens_per_s",
                          "decode_tokens_per_s_total", "usd_per_million_output_tokens"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_TRUE(j["fits"].get<bool>());
  EXPECT_NEAR(j["decode_tokens_per_s_total"].get<double>(), 8 * j["decode_tokens_per_s"].get<double>(), 1e-6);
  EXPECT_GT(j["usd_per_million_output_tokens"].get<double>(), 0);
  r = run_command(frugal_binary() + " plan llm --model llama-3-70b --hardware rtx-4090 --weights bf16 --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(json::parse(r.output)["fits"].get<bool>());
}

TEST(CliPlan, OtherSubcommandsPrintJson) {
  auto r = run_command(frugal_binary() + " plan hardware --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GE(json::parse(r.output).size(), 12u);
  r = run_command(frugal_binary() + " plan video --model wan2.1-t2v-14b --hardware h100-sxm --resolution 480p "
                                    "--seconds 5 --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(json::parse(r.output)["tokens"].get<int64_t>(), 32760);
  r = run_command(frugal_binary() + " plan breakeven --model llama-3-8b --hardware h100-sxm --weights fp8 --batch 64 "
                                    "--context 2048 --api-usd-per-unit 0.0001 --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(json::parse(r.output)["never"].get<bool>());
  r = run_command(frugal_binary() + " plan recommend --model llama-3-8b --max-tpot-ms 40 --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json rec = json::parse(r.output);
  EXPECT_GT(rec["evaluated"].get<int64_t>(), 100);
  EXPECT_LE(rec["best"]["tpot_s"].get<double>(), 0.04);
}

TEST(CliPlan, ThisMachineUsesTheCalibrationFile) {
  CalibrationRecord rec;
  rec.machine_id = "cli-test";
  rec.memory_bytes = 32e9;
  rec.read_gb_per_s = 50;
  rec.triad_gb_per_s = 40;
  rec.peak_flops_per_s = 1e12;
  rec.points = {{"q4_0", 1, 512, 0.8, 0.1}};
  rec.points[0].model_name = "llama-3-8b-q4_0.gguf";  // measured on a model of this size and type
  rec.points[0].model_weight_bytes = 4.6e9;
  const std::string path = temp_path("calibration.json");
  ASSERT_TRUE(save_calibration(rec, path).is_ok());
  auto r = run_command(frugal_binary() + " plan llm --model llama-3-8b --hardware this-machine --weights q4_0 "
                                         "--context 512 --calibration " + path + " --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json j = json::parse(r.output);
  EXPECT_TRUE(j["calibrated"].get<bool>());
  EXPECT_DOUBLE_EQ(j["mbu"].get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(j["capacity_bytes"].get<double>(), 32e9);
  // FRUGAL_CALIBRATION works too; a missing file is a clear error.
  r = run_command("FRUGAL_CALIBRATION=" + path + " " + frugal_binary() +
                  " plan llm --model llama-3-8b --hardware this-machine --weights q4_0 --json 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_command(frugal_binary() + " plan llm --hardware this-machine --calibration /nonexistent.json 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("no calibration record"), std::string::npos) << r.output;
  std::filesystem::remove(path);
}

TEST(CliPlan, UserCatalogueErrorsNameEntryAndField) {
  const std::string path = temp_path("catalogue.json");
  std::ofstream(path) << R"({"entries": [{"name": "broken", "description": "x", "kind": "gpu", "memory_bytes": 0}]})";
  auto r = run_command(frugal_binary() + " plan hardware --catalogue " + path + " 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("entry 'broken'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("'memory_bytes'"), std::string::npos) << r.output;
  std::filesystem::remove(path);
}

bool chromium_available() { return run_command("command -v chromium >/dev/null 2>&1").exit_code == 0; }

TEST(CliPlan, HtmlReportRendersThreeChartsInHeadlessChromium) {
  if (!chromium_available()) {
    if (std::getenv("CI") == nullptr) GTEST_SKIP() << "chromium not installed (apt-get install chromium)";
    FAIL() << "chromium is required in CI";
  }
  const std::string html = temp_path("report.html");
  auto r = run_command(frugal_binary() + " plan llm --model llama-3-70b --hardware h200 --weights fp8 --batch 32 "
                                         "--context 4096 --html " + html + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string profile = temp_path("chromium-profile");
  std::filesystem::create_directories(profile);
  r = run_command("chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
                  "--disable-component-update --disable-sync --no-first-run --user-data-dir=" + profile +
                  " --dump-dom file://" + html + " 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string& dom = r.output;
  for (const char* id : {"chart-cost-vs-batch", "chart-cost-per-accelerator", "chart-breakeven"}) {
    const size_t at = dom.find(std::string("<svg id=\"") + id + "\"");
    ASSERT_NE(at, std::string::npos) << id << "\n" << dom.substr(0, 2000);
    EXPECT_NE(dom.find("<title>", at), std::string::npos) << id;
  }
  EXPECT_NE(dom.find("<polyline"), std::string::npos);
  EXPECT_NE(dom.find("<rect"), std::string::npos);
  EXPECT_EQ(dom.find("<script"), std::string::npos);
  std::filesystem::remove_all(profile);
  std::filesystem::remove(html);
}

}  // namespace
}  // namespace frugal
