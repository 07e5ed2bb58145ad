// Test helper: a real S3-compatible server, s3rver (npm, pinned in package.json), started by the test
// on 127.0.0.1 with an ephemeral port (-p 0; the port is read from its "listening on" line within a
// bounded wait), its data in a fresh temporary folder; stopped (SIGTERM, then SIGKILL) by the
// destructor. s3rver accepts the access key S3RVER (secret S3RVER) and answers InvalidAccessKeyId to
// any other key; it does not verify SigV4 signatures (tests/storage/sigv4_test.cc carries that part).
#pragma once

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal::testing {

inline std::filesystem::path s3rver_repo_root() {
  return std::filesystem::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path();
}

// "" when node and the npm package are there, else why not.
inline std::string s3rver_missing() {
  if (std::system("command -v node >/dev/null 2>&1") != 0) return "node is not installed";
  if (!std::filesystem::exists(s3rver_repo_root() / "node_modules/s3rver/bin/s3rver.js")) {
    return "s3rver is not installed (run `npm ci` in the repo root, or scripts/install-deps)";
  }
  return "";
}

// Skips the test (fails it under CI) when s3rver is missing.
#define FRUGAL_REQUIRE_S3RVER()                                                  \
  do {                                                                           \
    const std::string why = ::frugal::testing::s3rver_missing();                \
    if (!why.empty()) {                                                          \
      if (std::getenv("CI") != nullptr) FAIL() << why << " (required in CI)";    \
      GTEST_SKIP() << why;                                                       \
    }                                                                            \
  } while (0)

class S3rverProcess {
 public:
  S3rverProcess() {
    static int counter = 0;
    const std::string stem = ::testing::TempDir() + "frugal_s3rver_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
    data_dir_ = stem + "_data";
    log_ = stem + ".log";
    std::filesystem::remove_all(data_dir_);
    // --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation tokens with DES, which
    // OpenSSL 3 (node >= 17) only offers through its legacy provider; without it a truncated listing is a 500.
    std::vector<std::string> args = {"node", "--openssl-legacy-provider", (s3rver_repo_root() / "node_modules/s3rver/bin/s3rver.js").string(),
                                     "-d", data_dir_, "-a", "127.0.0.1", "-p", "0", "--no-vhost-buckets"};
    child_.start(std::move(args), log_, /*search_path=*/true);
  }
  ~S3rverProcess() {
    stop();
    std::filesystem::remove_all(data_dir_);
    std::filesystem::remove(log_);
  }
  S3rverProcess(const S3rverProcess&) = delete;
  S3rverProcess& operator=(const S3rverProcess&) = delete;

  // Waits (bounded: 30 s, node starts slowly on a busy machine) for "S3rver listening on
  // 127.0.0.1:PORT"; 0 if it never came (see log()).
  int wait_for_port() {
    const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
    child_.wait_until([&] {
      std::smatch match;
      const std::string text = read_text_file(log_);
      if (std::regex_search(text, match, listening)) port_ = std::stoi(match[1]);
      return port_ != 0;
    }, 30000);
    return port_;
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return read_text_file(log_); }

  // SIGTERM, SIGKILL after 5 s.
  void stop() { child_.stop(5000); }

 private:
  ChildProcess child_;
  int port_ = 0;
  std::string data_dir_;
  std::string log_;
};

}  // namespace frugal::testing
