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

#include "common/subprocess.h"
#include "common/test_data.h"
#include "server/fake_engine.h"
#include "server/http_server.h"
#include "server/server_test_util.h"

extern char** environ;

namespace frugal {
namespace {

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
int run_node_tests(const std::string& base_url, const std::string& model, std::string* output) {
  const std::string log = ::testing::TempDir() + "frugal_node_tests.log";
  const std::string command = "cd '" + kRepoRoot.string() + "' && FRUGAL_BASE_URL='" + base_url +
                              "' FRUGAL_MODEL='" + model + "' timeout 300 node --test --test-reporter=spec " +
                              "tests/e2e/openai_client.test.mjs > '" + log + "' 2>&1";
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

// A `frugal serve` child process on an ephemeral loopback port.
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& extra_args) {
    log_ = ::testing::TempDir() + "frugal_serve_" + std::to_string(getpid()) + ".log";
    std::vector<std::string> args = {testing::frugal_binary(), "serve", "-m",
                                     testing::data_path("models/small-q8_0.gguf"), "--host", "127.0.0.1",
                                     "--port", "0", "-t", "2", "--model-name", "small"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ServeProcess() { stop(); }

  // Waits (bounded) for the "listening on http://127.0.0.1:PORT" line; 0 if it never came.
  int wait_for_port() {
    const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
    for (int attempt = 0; attempt < 600 && pid_ > 0; ++attempt) {
      std::smatch match;
      const std::string text = testing::read_text_file(log_);
      if (std::regex_search(text, match, listening)) return std::stoi(match[1]);
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;  // exited early
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }

  // SIGTERM, then a bounded wait (SIGKILL after it); returns the exit code, -1 if killed.
  int stop() {
    if (pid_ <= 0) return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
    kill(pid_, SIGTERM);
    for (int attempt = 0; attempt < 400; ++attempt) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
    return -1;
  }
  std::string log() const { return testing::read_text_file(log_); }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  std::string log_;
};

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

}  // namespace
}  // namespace frugal
