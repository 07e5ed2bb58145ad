// Test helper: the JobStore backends the jobs tests run against, by name ("sqlite" | "redis").
// SQLite: a file in the temp folder per test. Redis: one redis-server per test binary (started at
// first use, killed at exit: tests/common/redis_server.h), a key prefix per test. reopen() closes
// the store and opens the same data again, as a restarted process would (for Redis with the same
// consumer name, as a worker restarted with a fixed --worker-name).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/redis_server.h"
#include "jobs/redis_job_store.h"
#include "jobs/sqlite_job_store.h"

namespace frugal::jobs::test {

class BackendStore {
 public:
  // The shared Redis server (started once).
  static testing::RedisServer& redis() {
    static testing::RedisServer server("jobs_tests");
    return server;
  }

  // Call from SetUp, then ASSERT on ready().
  void init(const std::string& backend, const std::string& test_name, int64_t lease_ms = 30000, int max_attempts = 3) {
    backend_ = backend;
    lease_ms_ = lease_ms;
    max_attempts_ = max_attempts;
    static int counter = 0;
    if (backend == "redis") {
      prefix_ = "t" + std::to_string(++counter) + ":";
    } else {
      path_ = ::testing::TempDir() + "frugal_jobs_" + std::to_string(::getpid()) + "_" + test_name + "_" +
              std::to_string(++counter) + ".sqlite";
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    }
  }
  ~BackendStore() {
    if (!path_.empty()) {
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    }
  }

  // A new connection to the same data; consumer names a Redis worker ("" → the default one).
  Expected<std::unique_ptr<JobStore>> open(const std::string& consumer = "test-worker") const {
    if (backend_ == "redis") {
      RedisJobStoreOptions options;
      options.url = redis().url();
      options.prefix = prefix_;
      options.consumer = consumer;
      options.lease_ms = lease_ms_;
      options.max_attempts = max_attempts_;
      auto store = RedisJobStore::open(options);
      if (!store) return store.error();
      return std::unique_ptr<JobStore>(std::move(*store));
    }
    auto store = SqliteJobStore::open(path_);
    if (!store) return store.error();
    return std::unique_ptr<JobStore>(std::move(*store));
  }
  const std::string& prefix() const { return prefix_; }

 private:
  std::string backend_;
  std::string path_;
  std::string prefix_;
  int64_t lease_ms_ = 30000;
  int max_attempts_ = 3;
};

// In SetUp of a test parametrised by backend name: skips (fails under CI=1) without redis-server.
#define FRUGAL_SETUP_BACKEND(store, backend)                                                      \
  do {                                                                                           \
    if ((backend) == "redis") {                                                                  \
      FRUGAL_REQUIRE_REDIS_SERVER();                                                             \
      ASSERT_TRUE(::frugal::jobs::test::BackendStore::redis().ready())                           \
          << ::frugal::jobs::test::BackendStore::redis().log();                                 \
    }                                                                                            \
    const std::string full_name = ::testing::UnitTest::GetInstance()->current_test_info()->name(); \
    (store).init((backend), full_name.substr(0, full_name.find('/')));                           \
  } while (0)

}  // namespace frugal::jobs::test
