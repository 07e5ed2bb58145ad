// Client compatibility with the official `openai` npm package: runs tests/e2e/openai_client.test.mjs
// (node --test) against (1) `frugal serve` on the small test model and (2) the in-process server
// over the fake engine. Needs node and `npm ci` (package.json at the repo root); skipped when they
// are missing unless the environment variable CI is set. Loopback only, every wait bounded.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "common/serve_process.h"
#include "common/subprocess.h"
#include "common/test_data.h"
#include "server/fake_engine.h"
#include "server/http_server.h"
#include "server/server_test_util.h"


namespace frugal {
namespace {

using testing::ServeProcess;

namespace fs = std::filesystem;

const fs::path kRepoRoot = fs::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path();

// Skips (or fails under CI) when node or the npm package is missing.
bool node_client_available(std::string* why) {
  if (std::system("command -v node >/dev/null 2>&1") != 0) {
    *why = "node is not installed";
    return false;
  }
  if (!fs::exists(kRepoRoot / "node_modules" / "openai" / "package.json")) {
    *why = "the openai npm package is not installed (run `npm ci` in the repo root)";
    return false;
  }
  return true;
}

// Runs the node test file against base_url; returns node's exit code and appends its output.
int run_node_tests(const std::string& base_url, const std::string& model, std::string* output,
                   const std::string& file = "tests/e2e/openai_client.test.mjs") {
  const std::string log = ::testing::TempDir() + "frugal_node_tests.log";
  const std::string command = "cd '" + kRepoRoot.string() + "' && FRUGAL_BASE_URL='" + base_url +
                              "' FRUGAL_MODEL='" + model + "' timeout 300 node --test --test-reporter=spec " +
                              file + " > '" + log + "' 2>&1";
  const int status = std::system(command.c_str());
  *output = testing::read_text_file(log);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void expect_node_tests_pass(const std::string& base_url, const std::string& model) {
  std::string output;
  const int rc = run_node_tests(base_url, model, &output);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_NE(output.find("pass 8"), std::string::npos) << "all 8 client tests must run and pass:\n" << output;
  EXPECT_NE(output.find("fail 0"), std::string::npos) << output;
}

class OpenAIClient : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (node_client_available(&why)) return;
    if (std::getenv("CI") != nullptr) FAIL() << why << " (required in CI)";
    GTEST_SKIP() << why;
  }
};

TEST_F(OpenAIClient, AgainstTheInProcessServerWithTheFakeEngine) {
  testing::FakeEngine engine(testing::FakeEngineOptions{});
  HttpServerOptions options;
  options.port = 0;
  options.model_name = "fake-model";
  HttpServer server(engine, testing::test_tokenizer(), nullptr, options);
  ASSERT_TRUE(server.start_background().is_ok());
  expect_node_tests_pass("http://127.0.0.1:" + std::to_string(server.port()) + "/v1", "fake-model");
  server.shutdown(std::chrono::milliseconds(0));
}


TEST_F(OpenAIClient, AgainstFrugalServeWithTheSmallModel) {
  if (!fs::exists(testing::frugal_binary())) {
    if (std::getenv("CI") != nullptr) FAIL() << "the frugal binary is not built";
    GTEST_SKIP() << "build the `frugal` target first";
  }
  ServeProcess serve({"--max-running", "4", "--ctx-size", "512"});
  const int port = serve.wait_for_port();
  ASSERT_GT(port, 0) << serve.log();
  expect_node_tests_pass("http://127.0.0.1:" + std::to_string(port) + "/v1", "small");
  EXPECT_EQ(serve.stop(), 0) << "SIGTERM must shut down cleanly:\n" << serve.log();
  EXPECT_NE(serve.log().find("frugal: stopped"), std::string::npos) << serve.log();
}

// Structured outputs and tools (tests/e2e/openai_structured.test.mjs) need a real grammar on a
// real model: `frugal serve` on the bundled KJV model (ChatML template: Hermes tool calls).
TEST_F(OpenAIClient, StructuredOutputsAndToolsAgainstFrugalServeWithTheBundledModel) {
  if (!fs::exists(testing::frugal_binary())) {
    if (std::getenv("CI") != nullptr) FAIL() << "the frugal binary is not built";
    GTEST_SKIP() << "build the `frugal` target first";
  }
  ServeProcess serve({"--max-running", "4", "--ctx-size", "1024"}, (kRepoRoot / "models" / "kjv-target-f16.gguf").string());
  const int port = serve.wait_for_port();
  ASSERT_GT(port, 0) << serve.log();
  std::string output;
  const int rc = run_node_tests("http://127.0.0.1:" + std::to_string(port) + "/v1", "small", &output,
                                "tests/e2e/openai_structured.test.mjs");
  EXPECT_EQ(rc, 0) << output;
  EXPECT_NE(output.find("pass 9"), std::string::npos) << "all 9 structured-output client tests must pass:\n" << output;
  EXPECT_NE(output.find("fail 0"), std::string::npos) << output;
  EXPECT_EQ(serve.stop(), 0) << serve.log();
}

}  // namespace
}  // namespace frugal
