// The official `openai` npm client's responses.create (plain and streaming) and embeddings.create
// against `frugal serve` on the small test model: runs tests/e2e/openai_responses.test.mjs with
// node --test. Needs node and `npm ci`; skipped when they are missing unless CI is set.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "common/serve_process.h"
#include "common/test_data.h"

namespace frugal {
namespace {

namespace fs = std::filesystem;

const fs::path kRepoRoot = fs::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path();

TEST(OpenAIResponsesClient, ResponsesAndEmbeddingsWorkWithTheOfficialClient) {
  std::string why;
  if (std::system("command -v node >/dev/null 2>&1") != 0) why = "node is not installed";
  else if (!fs::exists(kRepoRoot / "node_modules" / "openai" / "package.json")) why = "run `npm ci` in the repo root";
  if (!why.empty()) {
    if (std::getenv("CI") != nullptr) FAIL() << why << " (required in CI)";
    GTEST_SKIP() << why;
  }
  testing::ServeProcess server({});
  const int port = server.wait_for_port();
  ASSERT_GT(port, 0) << server.log();
  const std::string log = ::testing::TempDir() + "frugal_node_responses.log";
  const std::string command = "cd '" + kRepoRoot.string() + "' && FRUGAL_BASE_URL='http://127.0.0.1:" +
                              std::to_string(port) + "/v1' FRUGAL_MODEL=small timeout 300 node --test " +
                              "--test-reporter=spec tests/e2e/openai_responses.test.mjs > '" + log + "' 2>&1";
  const int status = std::system(command.c_str());
  const std::string output = testing::read_text_file(log);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_NE(output.find("pass 5"), std::string::npos) << "all 5 client tests must run and pass:\n" << output;
  EXPECT_NE(output.find("fail 0"), std::string::npos) << output;
}

}  // namespace
}  // namespace frugal
