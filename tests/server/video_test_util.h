// Helpers of the Videos API tests (video_api_test.cc, video_serving_test.cc): a wan-tiny model made
// once per run, a small tiers file, curl against the server, `frugal serve` with the video model.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/serve_process.h"
#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal::video_test {

using json = nlohmann::json;
using testing::ServeProcess;
namespace fs = std::filesystem;

inline const fs::path kRepoRoot = fs::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path();

inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "frugal_video_api_" + std::to_string(getpid()) + "_" + name;
}

// A wan-tiny model folder, made once per test run by `frugal mkmodel`.
inline const std::string& wan_tiny_dir() {
  static const std::string dir = [] {
    const std::string path = temp_path("wan_tiny");
    const auto made = testing::run_command(testing::frugal_binary() + " mkmodel --preset wan-tiny -o " + path + " 2>&1");
    EXPECT_EQ(made.exit_code, 0) << made.output;
    return path;
  }();
  return dir;
}

// draft: 64x64, 9 frames, 2 steps (well under a second); slow: 128x128, 33 frames, 10 steps
// (seconds: long enough to be killed or cancelled mid-run).
inline std::string tiers_file() {
  const std::string path = temp_path("tiers.json");
  std::ofstream(path) << R"({"default_tier": "draft", "max_frames": 33, "max_side": 128, "max_queued": 16,
    "tiers": [{"name": "draft", "size": "64x64", "frames": 9, "steps": 2, "priority": 2},
              {"name": "slow", "size": "128x128", "frames": 33, "steps": 10, "priority": 1}]})";
  return path;
}

// tiers_file() plus a middle tier, "standard": 64x64, 17 frames, 4 steps (about a second).
inline std::string three_tiers_file() {
  const std::string path = temp_path("three_tiers.json");
  std::ofstream(path) << R"({"default_tier": "draft", "max_frames": 33, "max_side": 128, "max_queued": 32,
    "tiers": [{"name": "draft", "size": "64x64", "frames": 9, "steps": 2, "priority": 3},
              {"name": "standard", "size": "64x64", "frames": 17, "steps": 4, "priority": 2},
              {"name": "slow", "size": "128x128", "frames": 33, "steps": 10, "priority": 1}]})";
  return path;
}

struct HttpResult {
  int status = 0;
  std::string headers;
  std::string body;
  json body_json;
};

// curl with `args` (method, headers, data) against http://127.0.0.1:PORT/PATH.
inline HttpResult http(int port, const std::string& args, const std::string& path) {
  static int counter = 0;
  const std::string stem = temp_path("curl_" + std::to_string(++counter));
  const auto run = testing::run_command("curl -s -o " + stem + ".body -D " + stem + ".headers -w '%{http_code}' " + args +
                                        " 'http://127.0.0.1:" + std::to_string(port) + path + "'");
  HttpResult result;
  result.status = std::atoi(run.output.c_str());
  result.headers = testing::read_text_file(stem + ".headers");
  result.body = testing::read_text_file(stem + ".body");
  result.body_json = json::parse(result.body, nullptr, /*allow_exceptions=*/false);
  fs::remove(stem + ".body");
  fs::remove(stem + ".headers");
  return result;
}

inline HttpResult create_video(int port, const std::string& form_args) {
  return http(port, "-X POST " + form_args, "/v1/videos");
}

// `frugal serve` with the small LLM and the wan-tiny video model; its job state in `state_dir`.
inline std::unique_ptr<ServeProcess> serve_video(const std::string& state_dir, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"--video-model",  wan_tiny_dir(),   "--video-tiers",     tiers_file(),
                                   "--video-state",  state_dir,        "--price-per-hour",  "3.6"};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<ServeProcess>(args);
}

// Polls until the job is completed or failed (or `timeout` passes); the last object seen.
inline json wait_until_done(int port, const std::string& id, std::chrono::seconds timeout = std::chrono::seconds(120)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  json video;
  while (std::chrono::steady_clock::now() < deadline) {
    video = http(port, "", "/v1/videos/" + id).body_json;
    const std::string status = video.value("status", "");
    if (status == "completed" || status == "failed") return video;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return video;
}

inline int count_occurrences(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++count;
  return count;
}

// A server test with its own state folder (jobs.sqlite, files/), removed afterwards; skipped when the
// `frugal` binary has not been built.
class VideoServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(testing::frugal_binary())) GTEST_SKIP() << "build the `frugal` target first";
    ASSERT_TRUE(fs::exists(wan_tiny_dir() + "/config.json"));
    state_dir_ = temp_path(::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(state_dir_);
  }
  void TearDown() override { fs::remove_all(state_dir_); }
  std::string state_dir_;
};

}  // namespace frugal::video_test
