// Test helper: one child process (a real server a test starts: frugal serve/worker, redis-server,
// s3rver, nginx), spawned with posix_spawn, its stdout and stderr optionally sent to a log file,
// reaped without blocking, stopped with SIGTERM and then SIGKILL after a bounded wait. Every wait
// here is bounded; the destructor stops the child. The servers' helpers (serve_process.h,
// redis_server.h, s3rver_process.h, deploy/nginx_front.h) own one of these each.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace frugal::testing {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts args[0] with args (args[0] searched in PATH when `search_path`), stdout and stderr
  // appended to nothing (inherited) when `log_path` is empty, else written to it (truncated).
  // False when the spawn failed. A previous child must have been stopped.
  bool start(std::vector<std::string> args, const std::string& log_path = "", bool search_path = false) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!log_path.empty()) {
      posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      posix_spawn_file_actions_adddup2(&actions, 1, 2);
    }
    const int rc = search_path ? posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ)
                               : posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
    status_ = 0;
    return pid_ > 0;
  }

  // Reaps the child if it has exited (never blocks); true while it runs.
  bool poll() {
    if (pid_ > 0 && waitpid(pid_, &status_, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Its exit code once reaped; -1 while it runs or when a signal ended it.
  int exit_code() const { return pid_ <= 0 && WIFEXITED(status_) ? WEXITSTATUS(status_) : -1; }

  // Polls `ready()` every `period_ms` for at most `timeout_ms`: true as soon as it holds, false when
  // time runs out or the child exits first (checked after each failed try).
  template <class Ready>
  bool wait_until(Ready ready, int timeout_ms, int period_ms = 50) {
    for (int waited = 0; waited < timeout_ms && pid_ > 0; waited += period_ms) {
      if (ready()) return true;
      if (!poll()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(period_ms));
    }
    return false;
  }

  // SIGTERM and a wait of at most `timeout_ms` for the exit, SIGKILL after it. The exit code, -1
  // when it had to be killed (or a signal ended it).
  int stop(int timeout_ms = 10000) {
    if (pid_ <= 0) return exit_code();
    ::kill(pid_, SIGTERM);
    for (int waited = 0; waited < timeout_ms; waited += 25) {
      if (!poll()) return exit_code();
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    kill_hard();
    return -1;
  }
  // SIGKILL: the child dies without any shutdown (a crash); returns once it is reaped.
  void kill_hard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
};

}  // namespace frugal::testing
