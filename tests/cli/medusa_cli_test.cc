// `--spec medusa --medusa FILE` from the command line: serve speculates with the bundled heads and
// returns the same greedy text as without, `run` prints the target's text, `bench --spec all`
// compares off / draft / n-gram / Medusa in one run, and bad heads or flags are clear errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <regex>
#include <sstream>

#include "common/curl_client.h"
#include "common/serve_process.h"
#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal {
namespace {

using json = nlohmann::json;
using testing::frugal_binary;
using testing::run_command;

const std::filesystem::path kModels =
    std::filesystem::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path() / "models";
const std::string kTarget = (kModels / "kjv-target-f16.gguf").string();
const std::string kDraft = (kModels / "kjv-draft-f16.gguf").string();
const std::string kHeads = (kModels / "kjv-target-medusa.gguf").string();

double metric(int port, const std::string& name) {
  const std::string text = testing::curl_get(port, "/metrics");
  std::smatch match;
  return std::regex_search(text, match, std::regex("(^|\n)" + name + " ([^\n]+)")) ? std::stod(match[2]) : -1;
}

TEST(CliMedusa, ServeSpeculatesWithTheHeadsAndReturnsTheSameText) {
  auto server = testing::ServeProcess::with_exact_args({"-m", kTarget, "--model-name", "kjv", "--medusa", kHeads,
                                                        "--spec-always", "--host", "127.0.0.1", "--port", "0", "-t", "2"});
  const int port = server->wait_for_port();
  ASSERT_GT(port, 0) << server->log();
  auto body = [](bool speculation) {
    return json{{"model", "kjv"}, {"prompt", "And the LORD said unto Moses,"}, {"max_tokens", 48},
                {"temperature", 0}, {"ignore_eos", true}, {"speculation", speculation}}
        .dump();
  };
  const json plain = testing::curl_post_json(port, "/v1/completions", body(false));
  ASSERT_TRUE(plain.contains("choices")) << plain;
  EXPECT_EQ(metric(port, "frugal_spec_proposed_tokens_total"), 0) << "the opted-out request must not speculate";
  const json spec = testing::curl_post_json(port, "/v1/completions", body(true));
  ASSERT_TRUE(spec.contains("choices")) << spec;
  EXPECT_EQ(spec["choices"][0]["text"], plain["choices"][0]["text"]);
  EXPECT_EQ(spec["usage"]["completion_tokens"], 48);
  EXPECT_GT(metric(port, "frugal_spec_accepted_tokens_total"), 0);
  EXPECT_LT(metric(port, "frugal_spec_tokens_per_verification_count"), 47) << "accepted nodes save passes";
  EXPECT_EQ(server->stop(), 0) << server->log();
}

TEST(CliMedusa, RunPrintsTheTargetsGreedyText) {
  const std::string args = " -m " + kTarget + " -p 'The LORD is my shepherd;' -n 40 --temp 0 --ignore-eos -t 2";
  const auto plain = run_command(frugal_binary() + " run" + args + " 2>/dev/null");
  const auto spec = run_command(frugal_binary() + " run" + args + " --medusa " + kHeads + " 2>/dev/null");
  ASSERT_EQ(plain.exit_code, 0);
  ASSERT_EQ(spec.exit_code, 0);
  EXPECT_EQ(spec.output, plain.output);
  const auto summary = run_command(frugal_binary() + " run" + args + " --medusa " + kHeads + " 2>&1 >/dev/null");
  EXPECT_NE(summary.output.find("speculation medusa"), std::string::npos) << summary.output;
}

TEST(CliMedusa, BadHeadsAndFlagsAreClearErrors) {
  const std::pair<std::string, std::string> cases[] = {
      {"serve --port 0 -m " + kTarget + " --medusa " + kDraft, "not a Medusa heads file"},
      {"serve --port 0 -m " + kDraft + " --medusa " + kHeads, "made for a base with"},
      {"serve --port 0 -m " + kTarget + " --medusa /nonexistent/h.gguf", "/nonexistent/h.gguf"},
      {"serve --port 0 -m " + kTarget + " --medusa " + kHeads + " --medusa-tree 0", "--medusa-tree"},
      {"serve --port 0 -m " + kTarget + " --medusa " + kHeads + " --spec ngram", "--medusa is given but --spec is ngram"},
      {"serve --port 0 --model a=" + kTarget + " --model b=" + kDraft + " --medusa " + kHeads, "serve that model alone"},
      {"run -m " + kTarget + " -p hi --spec medusa", "--medusa FILE"},
      {"run -m " + kDraft + " -p hi --medusa " + kHeads, "made for a base with"},
      {"bench -m " + kTarget + " --spec all --medusa " + kHeads, "--draft"},
  };
  for (const auto& [args, needle] : cases) {
    const auto r = run_command(frugal_binary() + " " + args + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
    EXPECT_EQ(r.output.find("listening on"), std::string::npos) << args;
  }
}

TEST(CliMedusa, BenchSpecAllComparesFourWays) {
  const auto r = run_command(frugal_binary() + " bench -m " + kTarget + " --draft " + kDraft + " --medusa " + kHeads +
                             " --spec all -n 24 -r 1 -t 2 --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::map<std::string, json> rows;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] == '{') {
      const json row = json::parse(line);
      rows[row["arm"]] = row;
    }
  }
  ASSERT_EQ(rows.size(), 4u) << r.output;
  for (const char* arm : {"off", "draft", "ngram", "medusa"}) {
    ASSERT_TRUE(rows.count(arm)) << arm;
    EXPECT_GT(rows[arm]["tokens_per_s_median"].get<double>(), 0) << rows[arm];
  }
  EXPECT_EQ(rows["medusa"]["spec_mode"], "medusa");
  EXPECT_GT(rows["medusa"]["tokens_per_verification"].get<double>(), 1.5) << "trained heads get several tokens a pass";
  EXPECT_GT(rows["draft"]["tokens_per_verification"].get<double>(), 1.5);
  // The paired ratio against the draft arm: exactly 1 for the draft itself, and the medusa row's
  // agrees with the two arms' single repetition.
  ASSERT_TRUE(rows["medusa"].contains("speedup_vs_draft")) << rows["medusa"];
  EXPECT_DOUBLE_EQ(rows["draft"]["speedup_vs_draft"].get<double>(), 1.0);
  EXPECT_NEAR(rows["medusa"]["speedup_vs_draft"].get<double>(),
              rows["medusa"]["tokens_per_s_median"].get<double>() / rows["draft"]["tokens_per_s_median"].get<double>(), 1e-9);
}

}  // namespace
}  // namespace frugal
