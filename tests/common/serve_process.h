// Test helper: a `frugal serve` child process on an ephemeral loopback port (--port 0), or another
// subcommand (`frugal worker`), with its output captured to a log file. Every wait is bounded; the destructor stops the server.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/subprocess.h"
#include "common/test_data.h"

extern char** environ;

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
    for (int attempt = 0; attempt < 600 && pid_ > 0; ++attempt) {
      std::smatch match;
      const std::string text = read_text_file(log_);
      if (std::regex_search(text, match, listening)) return std::stoi(match[1]);
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;  // exited early
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return 0;
  }

  // Waits (bounded, `timeout_ms`) until the log contains `text`; false if it never did or the process exited.
  bool wait_for_log(const std::string& text, int timeout_ms = 30000) {
    for (int waited = 0; waited < timeout_ms && pid_ > 0; waited += 50) {
      if (read_text_file(log_).find(text) != std::string::npos) return true;
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return read_text_file(log_).find(text) != std::string::npos;
  }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // SIGTERM and a wait of at most `timeout_ms` for the exit; its exit code, -1 when it had to be killed.
  int terminate_within(int timeout_ms) {
    if (pid_ <= 0) return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
    kill(pid_, SIGTERM);
    for (int waited = 0; waited < timeout_ms; waited += 25) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    kill_hard();
    return -1;
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
  // SIGKILL: the process dies without any shutdown (a crash); returns once it is reaped.
  void kill_hard() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
  }
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
  static int& counter() {
    static int n = 0;
    return n;
  }
  pid_t pid_ = -1;
  int status_ = 0;
  std::string log_;
};

}  // namespace frugal::testing
