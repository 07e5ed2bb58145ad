// What a newcomer meets first: `frugal --version`, usage on a bare `frugal`, `frugal run --draft`'s
// summary on its own line, `frugal chat` keeping the conversation inside the context and Ctrl-C
// stopping only the reply, and `serve --hardware this-machine` pricing the demo.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

#include "common/serve_process.h"
#include "common/subprocess.h"
#include "common/test_data.h"

extern char** environ;

namespace frugal {
namespace {

using testing::frugal_binary;
using testing::run_command;

const std::string kModels = std::string(FRUGAL_TEST_DATA_DIR) + "/../../models/";

TEST(NewcomerCli, VersionNamesTheReleaseAndTheCommit) {
  const auto r = run_command(frugal_binary() + " --version 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(^frugal \d+\.\d+\.\d+ \(git ([0-9a-f]{12}(-dirty)?|unknown)\))")))
      << r.output;
  const auto head = run_command("git -C " + std::string(FRUGAL_TEST_DATA_DIR) + " rev-parse --short=12 HEAD 2>/dev/null");
  if (head.exit_code == 0 && head.output.size() >= 12) {
    EXPECT_NE(r.output.find(head.output.substr(0, 12)), std::string::npos) << r.output;
  }
}

TEST(NewcomerCli, BareFrugalPrintsUsage) {
  const auto r = run_command(frugal_binary() + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* word : {"Usage", "serve", "run", "chat", "plan", "gguf-set", "--version"}) {
    EXPECT_NE(r.output.find(word), std::string::npos) << word << "\n" << r.output;
  }
}

// stdout and stderr into one pipe (fully buffered stdout): the summary starts a line of its own.
TEST(NewcomerCli, RunDraftSummaryIsOnItsOwnLine) {
  const auto r = run_command(frugal_binary() + " run -m " + kModels + "kjv-target-f16.gguf --draft " + kModels +
                             "kjv-draft-f16.gguf -p 'And God said' -n 16 --temp 0 -t 2 2>&1 | cat");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t summary = r.output.find("frugal: prompt");
  ASSERT_NE(summary, std::string::npos) << r.output;
  ASSERT_GT(summary, 0u);
  EXPECT_EQ(r.output[summary - 1], '\n') << r.output;
  EXPECT_EQ(r.output.rfind("And God said", 0), 0u) << "the text comes first: " << r.output;
}

// The bundled model's context is 256 tokens: turns of ~40-token messages overflow it by the fourth
// turn. Every turn still gets a reply, and the chat says it dropped the oldest turns.
TEST(NewcomerCli, ChatDropsTheOldestTurnsWhenTheContextFills) {
  const std::string message =
      "And it came to pass in those days that the king of Israel went up against the city with all his "
      "men of war and his chariots and his horsemen";
  std::string input;
  for (int turn = 0; turn < 6; ++turn) input += message + " " + std::to_string(turn) + "\\n";
  const auto r = run_command("printf '" + input + "/exit\\n' | " + frugal_binary() + " chat -m " + kModels +
                             "kjv-target-f16.gguf --system 'You are the preacher.' --temp 0 -t 2 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("dropped the"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("kept the system prompt"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("error"), std::string::npos) << r.output;
}

TEST(NewcomerCli, ChatRefusesAMessageThatCannotFitAndGoesOn) {
  std::string huge;
  for (int word = 0; word < 300; ++word) huge += "Jerusalem ";
  const auto r = run_command("printf '" + huge + "\\nAmen\\n/exit\\n' | " + frugal_binary() + " chat -m " + kModels +
                             "kjv-target-f16.gguf -n 8 --temp 0 -t 2 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("exceeds the context"), std::string::npos) << r.output;
}

// Ctrl-C (SIGINT) during a reply stops the reply, not the chat: the next turn is answered.
TEST(NewcomerCli, ChatCtrlCStopsTheReplyNotTheChat) {
  int to_child[2];
  ASSERT_EQ(pipe(to_child), 0);
  const std::string out_path = ::testing::TempDir() + "frugal_chat_sigint_" + std::to_string(getpid()) + ".log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
  posix_spawn_file_actions_addclose(&actions, to_child[1]);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // A random-weight model with a long context: its replies run for seconds unless stopped.
  std::vector<std::string> args = {frugal_binary(), "chat", "-m", testing::data_path("models/small-q8_0.gguf"),
                                   "-c", "4096", "-n", "4000", "-t", "1", "--temp", "0"};  // greedy: no early end
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(to_child[0]);
  auto send = [&](const std::string& text) { ASSERT_EQ(write(to_child[1], text.data(), text.size()), ssize_t(text.size())); };
  send("Once upon a time\n");
  // Wait (bounded) until the reply streams, then interrupt it.
  for (int attempt = 0; attempt < 600 && testing::read_text_file(out_path).size() < 20; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGINT);
  for (int attempt = 0; attempt < 500 && testing::read_text_file(out_path).find("reply stopped") == std::string::npos;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  send("/exit\n");
  close(to_child[1]);
  int status = 0;
  for (int attempt = 0; attempt < 1000 && waitpid(pid, &status, WNOHANG) == 0; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (kill(pid, 0) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "chat did not exit after /exit: " << testing::read_text_file(out_path);
  }
  const std::string output = testing::read_text_file(out_path);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the chat ended by /exit, not by the signal\n" << output;
  EXPECT_NE(output.find("reply stopped (Ctrl-C)"), std::string::npos) << output;
}

// The demo's price: this machine's vCPUs at the catalogue's cloud rate, labelled in every response.
TEST(NewcomerCli, ServeThisMachinePricesAndLabelsTheCost) {
  auto server = testing::ServeProcess::with_exact_args(
      {"-m", testing::data_path("models/small-q8_0.gguf"), "--model-name", "small", "--port", "0", "-t", "2",
       "--hardware", "this-machine"});
  const int port = server->wait_for_port();
  ASSERT_GT(port, 0) << server->log();
  EXPECT_NE(server->log().find("this-machine: 2 vCPUs x USD"), std::string::npos) << server->log();
  const auto r = run_command("curl -s -i http://127.0.0.1:" + std::to_string(port) +
                             "/v1/chat/completions -H 'Content-Type: application/json' -d "
                             "'{\"model\": \"small\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], "
                             "\"max_tokens\": 4}'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("X-Frugal-Price-Source: this-machine: 2 vCPUs"), std::string::npos) << r.output;
  std::smatch cost;
  ASSERT_TRUE(std::regex_search(r.output, cost, std::regex(R"("cost_usd":([0-9.e-]+))"))) << r.output;
  EXPECT_GT(std::stod(cost[1]), 0.0) << r.output;
  EXPECT_NE(r.output.find("\"price_source\":\"this-machine: 2 vCPUs"), std::string::npos) << r.output;
}

// loadgen draws prompt ids from the served model's vocabulary (it says how big at /v1/models),
// refuses a range beyond it, and prints the server's own message when requests fail.
TEST(NewcomerCli, LoadgenUsesTheModelsVocabularyAndShowsServerErrors) {
  testing::ServeProcess server({});
  const int port = server.wait_for_port();
  ASSERT_GT(port, 0) << server.log();
  const std::string loadgen = frugal_binary() + " loadgen --port " + std::to_string(port) + " -c 2 -n 4 --max-tokens 4";
  const auto ok = run_command(loadgen + " --prompt-tokens 16 2>&1");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("4 ok, 0 failed"), std::string::npos) << ok.output;
  const auto beyond = run_command(loadgen + " --prompt-tokens 16 --vocab-high 8000 2>&1");
  EXPECT_NE(beyond.exit_code, 0);
  EXPECT_NE(beyond.output.find("vocabulary of 512 tokens"), std::string::npos) << beyond.output;
  const auto too_long = run_command(loadgen + " --prompt-tokens 600 2>&1");  // the context is 512
  EXPECT_NE(too_long.exit_code, 0);
  EXPECT_NE(too_long.output.find("http 400: "), std::string::npos) << too_long.output;
  EXPECT_NE(too_long.output.find("context"), std::string::npos) << "the server's reason reaches the user:\n"
                                                                 << too_long.output;
}

}  // namespace
}  // namespace frugal
