// Test helper: a redis-server child on 127.0.0.1 and a free port, its data (append-only file on,
// fsync'd at every write) in a temp folder. Every wait is bounded; the destructor kills it.
// redis_server_or_skip(): skips the test without redis-server, fails under CI=1.
#pragma once

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/loopback_port.h"
#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal::testing {

inline const char* kRedisServer = "/usr/bin/redis-server";

class RedisServer {
 public:
  explicit RedisServer(const std::string& name) {
    dir_ = ::testing::TempDir() + "frugal_redis_" + std::to_string(getpid()) + "_" + name;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    for (int attempt = 0; attempt < 5 && !ready_; ++attempt) {
      port_ = free_loopback_port();
      ready_ = start();
    }
  }
  ~RedisServer() {
    kill_hard();
    std::filesystem::remove_all(dir_);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool ready() const { return ready_; }
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return read_text_file(dir_ + "/redis.log"); }
  // redis-cli against this server; its output.
  std::string cli(const std::string& args) const {
    return run_command("redis-cli -h 127.0.0.1 -p " + std::to_string(port_) + " " + args + " 2>&1").output;
  }

  // SIGKILL: Redis dies without saving; only what its append-only file holds survives.
  void kill_hard() {
    child_.kill_hard();
    ready_ = false;
  }
  // Starts it again on the same port and folder (it loads the append-only file).
  bool restart() {
    kill_hard();
    ready_ = start();
    return ready_;
  }

 private:
  bool start() {
    std::vector<std::string> args = {kRedisServer, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                     "--dir", dir_, "--appendonly", "yes", "--appendfsync", "always",
                                     "--save", "", "--daemonize", "no", "--logfile", dir_ + "/redis.log",
                                     "--protected-mode", "no"};
    if (!child_.start(std::move(args))) return false;
    // 10 s at most; false when it exited first (the port was taken meanwhile).
    if (child_.wait_until([&] { return cli("PING").find("PONG") != std::string::npos; }, 10000)) return true;
    kill_hard();
    return false;
  }

  std::string dir_;
  int port_ = 0;
  ChildProcess child_;
  bool ready_ = false;
};

// True when redis-server is installed; otherwise skips the test, or fails it under CI=1.
#define FRUGAL_REQUIRE_REDIS_SERVER()                                                               \
  do {                                                                                              \
    if (!std::filesystem::exists(::frugal::testing::kRedisServer)) {                                \
      if (std::getenv("CI") != nullptr) FAIL() << "redis-server is required in CI (apt-get install redis-server)"; \
      GTEST_SKIP() << "redis-server is not installed (apt-get install redis-server)";               \
    }                                                                                               \
  } while (0)

}  // namespace frugal::testing
