// Test helper: a `frugal serve` child process on an ephemeral loopback port (--port 0), or another
// subcommand (`frugal worker`), with its output captured to a log file. Every wait is bounded; the destructor stops the server.
#pragma once

#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal::testing {

class ServeProcess {
 public:
  // Serves tests/data/models/small-q8_0.gguf as model "small" unless extra_args override it.
  explicit ServeProcess(const std::vector<std::string>& extra_args,
                        const std::string& model_path = data_path("models/small-q8_0.gguf")) {
    std::vector<std::string> args = {"-m", model_path, "--host", "127.0.0.1", "--port", "0", "-t", "2",
                                     "--model-name", "small"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    spawn(args);
  }
  // `frugal serve` with exactly these arguments (no default model; e.g. several --model NAME=PATH).
  static std::unique_ptr<ServeProcess> with_exact_args(const std::vector<std::string>& serve_args) {
    return std::unique_ptr<ServeProcess>(new ServeProcess(ExactTag{}, serve_args));
  }
  // Another subcommand (e.g. `frugal worker`) with exactly these arguments.
  static std::unique_ptr<ServeProcess> command(const std::string& subcommand, const std::vector<std::string>& args) {
    return std::unique_ptr<ServeProcess>(new ServeProcess(ExactTag{}, args, subcommand));
  }
  ~ServeProcess() { stop(); }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Waits (bounded) for the "listening on http://127.0.0.1:PORT" line; 0 if it never came.
  int wait_for_port() {
    const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
    int port = 0;
    child_.wait_until([&] {
      std::smatch match;
      const std::string text = read_text_file(log_);
      if (std::regex_search(text, match, listening)) port = std::stoi(match[1]);
      return port != 0;
    }, 30000);
    return port;
  }

  // Waits (bounded, `timeout_ms`) until the log contains `text`; false if it never did or the process exited.
  bool wait_for_log(const std::string& text, int timeout_ms = 30000) {
    child_.wait_until([&] { return read_text_file(log_).find(text) != std::string::npos; }, timeout_ms);
    return read_text_file(log_).find(text) != std::string::npos;
  }
  bool running() const { return child_.running(); }
  pid_t pid() const { return child_.pid(); }
  // SIGTERM and a wait of at most `timeout_ms` for the exit; its exit code, -1 when it had to be killed.
  int terminate_within(int timeout_ms) { return child_.stop(timeout_ms); }
  // SIGTERM, then a bounded wait (SIGKILL after 10 s); returns the exit code, -1 if killed.
  int stop() { return child_.stop(10000); }
  // SIGKILL: the process dies without any shutdown (a crash); returns once it is reaped.
  void kill_hard() { child_.kill_hard(); }
  std::string log() const { return read_text_file(log_); }

 private:
  struct ExactTag {};
  ServeProcess(ExactTag, const std::vector<std::string>& serve_args, const std::string& subcommand = "serve") {
    spawn(serve_args, subcommand);
  }
  void spawn(const std::vector<std::string>& serve_args, const std::string& subcommand = "serve") {
    log_ = ::testing::TempDir() + "frugal_" + subcommand + "_" + std::to_string(getpid()) + "_" +
           std::to_string(++counter()) + ".log";
    std::vector<std::string> args = {frugal_binary(), subcommand};
    args.insert(args.end(), serve_args.begin(), serve_args.end());
    child_.start(std::move(args), log_);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
  ChildProcess child_;
  std::string log_;
};

}  // namespace frugal::testing
