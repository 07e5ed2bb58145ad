// `frugal plan` input checks and text output end to end (issues #24 and #26): bad values are
// errors naming the flag, configurations that do not fit get no price, numbers carry units
// without exponents, `plan hardware` marks absent modes with "—" in aligned columns, written files
// are named on stderr, and `plan recommend`/`breakeven` take a traffic.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <vector>

#include "common/subprocess.h"

namespace frugal {
namespace {

using nlohmann::json;
using testing::frugal_binary;
using testing::run_command;

struct Case {
  const char* args;
  const char* message;
};

void expect_errors(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    auto r = run_command(frugal_binary() + " plan " + c.args + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << "\n" << r.output;
  }
}

TEST(CliPlanInputs, OutOfRangeLlmAndVideoValuesAreErrorsNamingTheFlag) {
  expect_errors({
      {"llm --utilisation 0", "--utilisation must be a fraction in (0, 1] (got 0)"},
      {"llm --utilisation 5", "--utilisation must be a fraction in (0, 1] (got 5)"},
      {"llm --mbu -1", "--mbu must be a fraction in (0, 1] (got -1)"},
      {"llm --mfu 1.5", "--mfu must be a fraction in (0, 1]"},
      {"llm --usd-per-hour -4", "--usd-per-hour must be a finite number > 0 (got -4)"},
      {"llm --batch 0", "--batch must be >= 1 (got 0)"},
      {"llm --batch -3", "--batch must be >= 1"},
      {"llm --count 0", "--count must be >= 1"},
      {"llm --hardware h100-sxm --weights fp4", "h100-sxm cannot run fp4 weights"},
      {"llm --hardware gaudi3 --weights q4_k_m", "gaudi3 cannot run q4_k_m weights"},
      {"video --steps 0", "--steps must be >= 1"},
      {"video --attention-density 0", "--attention-density must be a fraction in (0, 1]"},
      {"video --usd-per-hour -4", "--usd-per-hour must be a finite number > 0"},
  });
}

TEST(CliPlanInputs, OutOfRangeBreakevenRecommendAndHardwareValuesAreErrors) {
  expect_errors({
      {"breakeven --api-usd-per-unit 1 --utilisation 0", "--utilisation must be a fraction"},
      {"breakeven --api-usd-per-unit -1", "--api-usd-per-unit must be a finite number > 0"},
      {"recommend --mbu -1", "--mbu must be a fraction in (0, 1]"},
      {"recommend --counts 0", "--counts must be >= 1"},
      {"recommend --requests-per-minute -5", "--requests-per-minute must be a finite number > 0"},
      {"recommend --requests-per-minute 100 --ttft-p95 2parsecs", "--ttft-p95 must be a duration"},
      {"recommend --ttft-p95 2s", "--ttft-p95 needs a traffic"},
      {"hardware --usd-per-hour 0", "--usd-per-hour must be a finite number > 0"},
      {"breakeven --api-usd-per-unit 1 --own --pue 0.5", "--pue must be >= 1"},
  });
}

TEST(CliPlanInputs, ConfigurationsThatDoNotFitAreNotPriced) {
  auto r = run_command(frugal_binary() + " plan llm --model llama-3-70b --hardware rtx-4090 --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json j = json::parse(r.output);
  EXPECT_FALSE(j["fits"].get<bool>());
  EXPECT_FALSE(j["priced"].get<bool>());
  EXPECT_TRUE(j["usd_per_million_output_tokens"].is_null());
  r = run_command(frugal_binary() + " plan llm --model llama-3-70b --hardware rtx-4090 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("cost         — (does not fit in memory: not priced"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("per M output tokens"), std::string::npos) << r.output;
  r = run_command(frugal_binary() + " plan video --model wan2.1-t2v-14b --resolution 1080p --seconds 10 --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(json::parse(r.output)["fits"].get<bool>());
  EXPECT_TRUE(json::parse(r.output)["usd_per_video"].is_null());
  r = run_command(frugal_binary() + " plan breakeven --model llama-3-70b --hardware rtx-4090 --batch 1 "
                                    "--api-usd-per-unit 1 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("does not fit"), std::string::npos) << r.output;
}

TEST(CliPlanInputs, NumbersAreHumanFormattedWithUnits) {
  const std::regex exponent("[0-9]e[+-][0-9]");
  const char* commands[] = {
      "breakeven --video-model wan2.1-t2v-14b --api-usd-per-unit 0.2",
      "breakeven --video-model wan2.1-t2v-1.3b --api-usd-per-unit 0.2 --volume 20000",
      "video --model wan2.1-t2v-14b --resolution 4k --seconds 20",
      "llm --model llama-3-8b --batch 64",
      "breakeven --model llama-3-8b --weights fp8 --api-usd-per-unit 0.5 --own",
  };
  for (const char* c : commands) {
    auto r = run_command(frugal_binary() + " plan " + c + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << c << "\n" << r.output;
    EXPECT_FALSE(std::regex_search(r.output, exponent)) << c << "\n" << r.output;
  }
  // 4K 20 s on the 14B model runs for days: said in days, not millions of seconds.
  auto r = run_command(frugal_binary() + " plan video --model wan2.1-t2v-14b --resolution 4k --seconds 20 2>&1");
  EXPECT_TRUE(std::regex_search(r.output, std::regex("time +[0-9.,]+ days per video"))) << r.output;
  r = run_command(frugal_binary() + " plan breakeven --video-model wan2.1-t2v-1.3b --api-usd-per-unit 0.2 2>&1");
  EXPECT_TRUE(std::regex_search(r.output, std::regex("from [0-9]{1,3}(,[0-9]{3})* videos per month"))) << r.output;
}

TEST(CliPlanInputs, HardwareTableMarksAbsentModesAndAligns) {
  auto r = run_command(frugal_binary() + " plan hardware 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream lines(r.output);
  std::string line, a100, header;
  std::getline(lines, header);
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char ch : s) n += (ch & 0xC0) != 0x80 ? 1 : 0;
    return n;
  };
  size_t rows = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("(", 0) == 0) break;  // the footnote
    EXPECT_EQ(width(line), width(header)) << line;
    if (line.rfind("a100-80gb", 0) == 0) a100 = line;
    ++rows;
  }
  EXPECT_GE(rows, 12u);
  EXPECT_NE(a100.find("—"), std::string::npos) << a100;  // no FP8 on Ampere
  EXPECT_EQ(r.output.find(" 0 TF/s"), std::string::npos) << r.output;
}

TEST(CliPlanInputs, HtmlFileIsNamedOnStderr) {
  const std::string html =
      (std::filesystem::temp_directory_path() / ("frugal_plan_inputs_" + std::to_string(::getpid()) + ".html")).string();
  auto r = run_command(frugal_binary() + " plan llm --model llama-3-8b --html " + html + " 2>&1 >/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("frugal plan: wrote the HTML report to " + html), std::string::npos) << r.output;
  EXPECT_TRUE(std::filesystem::exists(html));
  std::filesystem::remove(html);
}

// The question of issue #26, in the text output: configuration, $/hour, $/request, utilisation, headroom.
TEST(CliPlanInputs, RecommendAnswersATrafficQuestionInText) {
  auto r = run_command(frugal_binary() + " plan recommend --model llama-3-70b --requests-per-minute 100 "
                                         "--ttft-p95 2s 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* text : {"traffic      100 requests/min", "cheapest     ", "/h, USD ", " per request", "p95 TTFT",
                           "utilisation ", "headroom "}) {
    EXPECT_NE(r.output.find(text), std::string::npos) << text << "\n" << r.output;
  }
  r = run_command(frugal_binary() + " plan recommend --model llama-3-70b --requests-per-minute 100 --ttft-p95 2s --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json j = json::parse(r.output);
  ASSERT_FALSE(j["best"].is_null());
  EXPECT_LE(j["best"]["ttft_p95_s"].get<double>(), 2.0);
  EXPECT_GT(j["best"]["usd_per_request"].get<double>(), 0);
  EXPECT_NEAR(j["requests_per_s"].get<double>(), 100.0 / 60, 1e-12);
}

// breakeven takes the batch the traffic implies, not batch 1.
TEST(CliPlanInputs, BreakevenUsesTheBatchTheTrafficImplies) {
  auto r = run_command(frugal_binary() + " plan breakeven --model llama-3-8b --hardware h100-sxm --weights fp8 "
                                         "--requests-per-minute 600 --ttft-p95 1s --api-usd-per-unit 0.5 --json 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json j = json::parse(r.output);
  EXPECT_GT(j["batch"].get<int64_t>(), 1);
  EXPECT_FALSE(j["never"].get<bool>());
  EXPECT_TRUE(j.contains("at_volume"));
  // Without a traffic or --batch: the largest batch within the TPOT target, said in the text.
  r = run_command(frugal_binary() + " plan breakeven --model llama-3-8b --hardware h100-sxm --api-usd-per-unit 0.5 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("the largest batch that fits"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("batch        1:"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace frugal
