// Every command block of README.md runs as printed. The test reads the README, takes each fenced
// block (```sh: every line is a command; ```console: the lines after "$ ", with "\" continuations),
// and runs the commands from the repository root with bash, each bounded by `timeout`, against a
// demo server it starts the way `make serve` does (scripts/serve-demo). Two rewrites make that
// possible and are the only ones: `build/frugal` is the binary under test (this build folder), and
// the demo's port 8080 is the free port the test's server got. A block preceded by
//   <!-- readme-test: skip: REASON -->
// is not run (the reason is required); a block preceded by
//   <!-- readme-test: serve-output -->
// is what the demo prints once it listens: each of its lines (port rewritten) must appear in the
// server's output, and the curl command on its "try:" line must answer 200 with a completion.
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/subprocess.h"
#include "common/test_data.h"

extern char** environ;

namespace frugal {
namespace {

namespace fs = std::filesystem;

const fs::path kRepoRoot = fs::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path();
constexpr int kCommandTimeoutSeconds = 300;

struct Block {
  int line = 0;               // 1-based line of the opening fence
  std::string language;       // "sh", "console", ...
  std::string marker;         // "", "skip: reason", "serve-output"
  std::vector<std::string> lines;
};

std::vector<Block> read_blocks(const std::string& path) {
  std::ifstream in(path);
  std::vector<Block> blocks;
  std::string line, marker;
  int number = 0;
  Block* open = nullptr;
  while (std::getline(in, line)) {
    ++number;
    if (open != nullptr) {
      if (line.rfind("```", 0) == 0) {
        open = nullptr;
      } else {
        open->lines.push_back(line);
      }
      continue;
    }
    const std::string prefix = "<!-- readme-test:";
    if (line.rfind(prefix, 0) == 0) {
      const size_t end = line.find("-->");
      marker = line.substr(prefix.size(), end == std::string::npos ? std::string::npos : end - prefix.size());
      marker = std::regex_replace(marker, std::regex(R"(^\s+|\s+$)"), "");
      continue;
    }
    if (line.rfind("```", 0) == 0) {
      blocks.push_back(Block{number, line.substr(3), marker, {}});
      open = &blocks.back();
    }
    if (!line.empty()) marker.clear();  // a marker applies to the fence right after it
  }
  return blocks;
}

// The commands of a block: console "$ " lines (with continuations), or every line of sh.
std::vector<std::string> commands_of(const Block& block) {
  std::vector<std::string> commands;
  bool continuing = false;
  for (const std::string& line : block.lines) {
    if (continuing) {
      commands.back() += "\n" + line;
    } else if (block.language == "sh" && !line.empty()) {
      commands.push_back(line);
    } else if (block.language == "console" && line.rfind("$ ", 0) == 0) {
      commands.push_back(line.substr(2));
    } else {
      continue;
    }
    continuing = !line.empty() && line.back() == '\\';
  }
  return commands;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// scripts/serve-demo as `make serve` runs it, on `port`, output to a log; stopped by the destructor.
class DemoServer {
 public:
  explicit DemoServer(int port) {
    log_ = ::testing::TempDir() + "frugal_readme_demo_" + std::to_string(getpid()) + ".log";
    const std::string script = (kRepoRoot / "scripts" / "serve-demo").string();
    std::vector<std::string> args = {script};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings = {"PORT=" + std::to_string(port), std::string("BUILD=") + FRUGAL_BINARY_DIR,
                                            "VIDEO_STATE=" + ::testing::TempDir() + "readme-video-state"};
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    std::vector<char*> envp;
    for (std::string& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~DemoServer() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int attempt = 0; attempt < 400; ++attempt) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  // Waits (bounded) for the listening line; false if it never came.
  bool wait_listening() {
    for (int attempt = 0; attempt < 1200 && pid_ > 0; ++attempt) {
      if (log().find("listening on") != std::string::npos) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the lines printed after it
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  std::string log() const { return testing::read_text_file(log_); }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

testing::CommandResult run_readme_command(const std::string& command, int port) {
  std::string rewritten = replace_all(command, "build/frugal", std::string(FRUGAL_BINARY_DIR) + "/frugal");
  rewritten = replace_all(rewritten, "8080", std::to_string(port));
  const std::string script = ::testing::TempDir() + "frugal_readme_command.sh";
  std::ofstream(script) << "set -euo pipefail\n" << rewritten << "\n";
  return testing::run_command("cd '" + kRepoRoot.string() + "' && timeout " + std::to_string(kCommandTimeoutSeconds) +
                              " bash '" + script + "' 2>&1");
}

TEST(Readme, EveryCommandBlockRunsAsPrinted_slow) {
  const std::vector<Block> blocks = read_blocks((kRepoRoot / "README.md").string());
  ASSERT_GE(blocks.size(), 5u);
  const int port = free_port();
  ASSERT_GT(port, 0);
  DemoServer demo(port);
  ASSERT_TRUE(demo.wait_listening()) << demo.log();
  int commands_run = 0, serve_outputs = 0;
  for (const Block& block : blocks) {
    SCOPED_TRACE("README.md:" + std::to_string(block.line));
    if (block.marker.rfind("skip", 0) == 0) {
      const std::string reason = block.marker.size() > 5 ? block.marker.substr(5) : "";
      EXPECT_GE(reason.size(), 10u) << "a skipped block names why: <!-- readme-test: skip: REASON -->";
      continue;
    }
    if (block.marker == "serve-output") {
      ++serve_outputs;
      const std::string log = demo.log();
      std::string curl, video_curl;  // the "try:" line's (with continuations) and the "video:" line's
      for (const std::string& line : block.lines) {
        const std::string expected = replace_all(line, "8080", std::to_string(port));
        EXPECT_NE(log.find(expected), std::string::npos) << "the demo prints\n  " << expected << "\nbut printed:\n" << log;
        const size_t at = line.find("curl ");
        if (at != std::string::npos && line.find("video:") != std::string::npos) video_curl = line.substr(at);
        else if (at != std::string::npos) curl = line.substr(at);
        else if (!curl.empty() && curl.back() == '\\') curl += "\n" + line;
      }
      EXPECT_FALSE(video_curl.empty()) << "the demo serves the bundled video model and shows a video example";
      if (!video_curl.empty()) {  // its example submits a draft job
        const auto job = run_readme_command(video_curl + " -s -w '\nhttp %{http_code}'", port);
        EXPECT_NE(job.output.find("\nhttp 200"), std::string::npos) << job.output;
        EXPECT_NE(job.output.find("\"object\":\"video\""), std::string::npos) << job.output;
      }
      ASSERT_FALSE(curl.empty()) << "the serve output shows a curl example";
      const auto answer = run_readme_command(curl + " -s -w '\\nhttp %{http_code}'", port);
      ASSERT_EQ(answer.exit_code, 0) << answer.output;
      EXPECT_NE(answer.output.find("\nhttp 200"), std::string::npos) << answer.output;
      const auto body = nlohmann::json::parse(answer.output.substr(0, answer.output.rfind("\nhttp")), nullptr, false);
      ASSERT_FALSE(body.is_discarded()) << answer.output;
      EXPECT_FALSE(body["choices"][0]["message"]["content"].get<std::string>().empty()) << answer.output;
      EXPECT_GT(body["usage"]["cost_usd"].get<double>(), 0.0) << "the demo's cost is never a silent zero";
      EXPECT_EQ(body["usage"]["price_source"].get<std::string>().rfind("this-machine", 0), 0u) << answer.output;
      ++commands_run;
      continue;
    }
    EXPECT_TRUE(block.marker.empty()) << "unknown marker: " << block.marker;
    for (const std::string& command : commands_of(block)) {
      SCOPED_TRACE(command);
      const auto result = run_readme_command(command, port);
      EXPECT_EQ(result.exit_code, 0) << result.output;
      EXPECT_EQ(result.output.find("error"), std::string::npos) << result.output;
      ++commands_run;
    }
  }
  EXPECT_EQ(serve_outputs, 1);
  EXPECT_GE(commands_run, 6);
}

}  // namespace
}  // namespace frugal
