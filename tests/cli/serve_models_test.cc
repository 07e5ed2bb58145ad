// `frugal serve` with several models: bad --model/--route/--overflow flags fail fast with a clear
// message and exit code 2, before any port is opened.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal {
namespace {

using testing::frugal_binary;
using testing::run_command;

const std::filesystem::path kRepoRoot = std::filesystem::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path();

std::string serve(const std::string& args) {
  return frugal_binary() + " serve --port 0 " + args + " 2>&1";
}

TEST(CliServeModels, BadModelAndRouteFlagsAreClearErrors) {
  const std::string big = "big=" + (kRepoRoot / "models" / "kjv-target-f16.gguf").string();
  const std::string small = "small=" + (kRepoRoot / "models" / "kjv-draft-f16.gguf").string();
  const std::pair<std::string, std::string> cases[] = {
      {"--model " + big + " --model /some/file.gguf", "NAME=PATH"},
      {"--model " + big + " --model big=/other.gguf", "'big' is used twice"},
      {"--model " + big + " --model " + small + " --route fast=small,huge", "'huge' is not a served model"},
      {"--model " + big + " --route auto=big", "'auto' is used twice"},
      {"--model " + big + " --overflow-url https://api.example.com --overflow-model m", "http://"},
      {"--model " + big + " --overflow-url http://127.0.0.1:9", "--overflow-model"},
      {"--model " + big + " --model missing=/nonexistent/x.gguf", "/nonexistent/x.gguf"},
      {"--model " + big + " --model " + small + " --model-name x", "--model-name"},
  };
  for (const auto& [args, needle] : cases) {
    const auto r = run_command(serve(args));
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
    EXPECT_EQ(r.output.find("listening on"), std::string::npos) << args;
  }
}

}  // namespace
}  // namespace frugal
