// `frugal serve` with speculative decoding: --draft (one model) and --draft-for NAME=PATH (several),
// the per-request opt-out ("speculation": false), greedy output identical over HTTP with and
// without speculation, the spec metrics, and clear errors for bad draft flags.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
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

json post(int port, const std::string& body) { return testing::curl_post_json(port, "/v1/completions", body); }

double metric(int port, const std::string& name) {
  const std::string text = testing::curl_get(port, "/metrics");
  std::smatch match;
  return std::regex_search(text, match, std::regex("(^|\n)" + name + " ([^\n]+)")) ? std::stod(match[2]) : -1;
}

std::string completion(const std::string& model, bool speculation) {
  return json{{"model", model}, {"prompt", "And the LORD said unto Moses,"}, {"max_tokens", 48},
              {"temperature", 0}, {"ignore_eos", true}, {"speculation", speculation}}
      .dump();
}

TEST(CliServeSpec, DraftSpeculatesUnlessTheRequestOptsOutAndTheTextIsTheSame) {
  auto server = testing::ServeProcess::with_exact_args({"-m", kTarget, "--model-name", "kjv", "--draft", kDraft,
                                                        "--spec-always", "--host", "127.0.0.1", "--port", "0", "-t",
                                                        "2"});
  const int port = server->wait_for_port();
  ASSERT_GT(port, 0) << server->log();
  const json plain = post(port, completion("kjv", false));
  ASSERT_TRUE(plain.contains("choices")) << plain;
  EXPECT_EQ(metric(port, "frugal_spec_proposed_tokens_total"), 0) << "the opted-out request must not speculate";
  const json spec = post(port, completion("kjv", true));
  ASSERT_TRUE(spec.contains("choices")) << spec;
  EXPECT_EQ(spec["choices"][0]["text"], plain["choices"][0]["text"]);
  EXPECT_EQ(spec["usage"]["completion_tokens"], 48);
  const double proposed = metric(port, "frugal_spec_proposed_tokens_total");
  const double accepted = metric(port, "frugal_spec_accepted_tokens_total");
  EXPECT_GT(proposed, 0);
  EXPECT_GT(accepted, 0);
  EXPECT_LE(accepted, proposed);
  EXPECT_EQ(server->stop(), 0) << server->log();
}

TEST(CliServeSpec, DraftForPairsADraftWithOneOfSeveralModels) {
  auto server = testing::ServeProcess::with_exact_args({"--model", "big=" + kTarget, "--model", "small=" + kDraft,
                                                        "--draft-for", "big=" + kDraft, "--spec-always", "--host",
                                                        "127.0.0.1", "--port", "0", "-t", "2"});
  const int port = server->wait_for_port();
  ASSERT_GT(port, 0) << server->log();
  const json small = post(port, completion("small", true));
  ASSERT_TRUE(small.contains("choices")) << small;
  EXPECT_EQ(metric(port, "frugal_spec_proposed_tokens_total"), 0) << "small has no draft";
  const json big = post(port, completion("big", true));
  ASSERT_TRUE(big.contains("choices")) << big;
  EXPECT_GT(metric(port, "frugal_spec_proposed_tokens_total"), 0);
  EXPECT_EQ(server->stop(), 0) << server->log();
}

TEST(CliServeSpec, BadDraftFlagsAreClearErrors) {
  const std::string tiny = testing::data_path("models/tiny-f16.gguf");
  const std::pair<std::string, std::string> cases[] = {
      {"-m " + kTarget + " --draft " + tiny, "vocabulary"},
      {"-m " + kTarget + " --draft /nonexistent/d.gguf", "/nonexistent/d.gguf"},
      {"-m " + kTarget + " --spec medusa", "--medusa FILE"},
      {"-m " + kTarget + " --spec eagle", "unknown speculation mode"},
      {"--model big=" + kTarget + " --model small=" + kDraft + " --draft " + kDraft, "--draft-for NAME=PATH"},
      {"--model big=" + kTarget + " --model small=" + kDraft + " --draft-for huge=" + kDraft, "'huge'"},
      {"--model big=" + kTarget + " --model small=" + kDraft + " --draft-for big", "NAME=PATH"},
  };
  for (const auto& [args, needle] : cases) {
    const auto r = run_command(frugal_binary() + " serve --port 0 " + args + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
    EXPECT_EQ(r.output.find("listening on"), std::string::npos) << args;
  }
}

}  // namespace
}  // namespace frugal

namespace frugal {
namespace {

TEST(CliBenchSpec, JsonRowsCompareOffAlwaysAndLoadAware) {
  const auto r = testing::run_command(testing::frugal_binary() + " bench -m " + kTarget + " --draft " + kDraft +
                                      " -n 24 -r 1 -t 2 --concurrency 1,2 --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<json> rows;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] == '{') rows.push_back(json::parse(line));
  }
  ASSERT_EQ(rows.size(), 6u) << r.output;  // 2 concurrencies x (off, always, load-aware)
  for (const json& row : rows) {
    EXPECT_GT(row["tokens_per_s_median"].get<double>(), 0) << row;
    const std::string arm = row["arm"];
    if (arm == "off") {
      EXPECT_EQ(row["proposed_tokens"].get<double>(), 0) << row;
      EXPECT_DOUBLE_EQ(row["speedup_vs_off"].get<double>(), 1.0);
    } else {
      EXPECT_TRUE(arm == "always" || arm == "load-aware") << arm;
    }
    if (arm == "always") {
      EXPECT_GT(row["proposed_tokens"].get<double>(), 0) << row;
      EXPECT_GT(row["acceptance_rate"].get<double>(), 0.3) << "the bundled draft is distilled from the target";
    }
  }
}

TEST(CliBenchSpec, BadArgumentsAreClearErrors) {
  for (const std::string args : {"--spec ngram --concurrency 0", "--spec ngram -n 0", "--spec ngram -r 0",
                                  "--spec medusa", "--spec draft", "--spec off"}) {
    const auto r = testing::run_command(testing::frugal_binary() + " bench -m " + kTarget + " " + args + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("error"), std::string::npos) << args << "\n" << r.output;
  }
}

}  // namespace
}  // namespace frugal
