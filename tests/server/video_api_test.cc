// The Videos API end to end against `frugal serve --video-model` on a wan-tiny model (random
// weights: the clips are noise, but real H.264 MP4s): the official `openai` npm client
// (tests/e2e/openai_videos.test.mjs) with ffprobe on its download, the bad-input table, the
// Idempotency-Key, promtool on /metrics, kill -9 mid-job then restart (every accepted job completes
// exactly once), overload (429 + Retry-After, never a 5xx, every accepted job completes) and
// DELETE cancelling a running job. Loopback only; every wait bounded.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/c2pa_validation.h"
#include "common/serve_process.h"
#include "common/subprocess.h"
#include "common/test_data.h"
#include "server/video_test_util.h"

namespace frugal {
namespace {

using namespace video_test;

class VideoApi : public video_test::VideoServerTest {};

struct BadInput {
  const char* what;
  std::string curl_args;
  std::string path;
  int status;
  std::string param;  // "" → not checked
  std::string code;   // "" → not checked
};

TEST_F(VideoApi, BadInputIsAnOpenAIErrorWithTheRightStatus) {
  auto serve = serve_video(state_dir_);
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  const std::string json_post = "-X POST -H 'Content-Type: application/json' --data-binary ";
  const std::string long_prompt(5000, 'a');
  const std::vector<BadInput> table = {
      {"unknown model", json_post + R"('{"model": "sora-2", "prompt": "x"}')", "/v1/videos", 404, "model", "model_not_found"},
      {"impossible size", "-F prompt=x -F size=1792x1024", "/v1/videos", 400, "size", ""},
      {"size not multiple of 16", "-F prompt=x -F size=100x64", "/v1/videos", 400, "size", ""},
      {"impossible seconds", "-F prompt=x -F seconds=12", "/v1/videos", 400, "seconds", ""},
      {"seconds not a number", "-F prompt=x -F seconds=four", "/v1/videos", 400, "seconds", ""},
      {"empty prompt", "-F prompt=", "/v1/videos", 400, "prompt", ""},
      {"no prompt", json_post + "'{}'", "/v1/videos", 400, "prompt", ""},
      {"oversized prompt", "-F prompt=" + long_prompt, "/v1/videos", 400, "prompt", ""},
      {"unknown tier", "-F prompt=x -F tier=ultra", "/v1/videos", 400, "tier", ""},
      {"bad seed", "-F prompt=x -F seed=abc", "/v1/videos", 400, "seed", ""},
      {"image upload", "-F prompt=x -F input_reference=@" + tiers_file(), "/v1/videos", 400, "input_reference",
       "unknown_parameter"},
      {"unknown form field", "-F prompt=x -F frugal_tier=draft", "/v1/videos", 400, "frugal_tier", "unknown_parameter"},
      {"unknown JSON field", json_post + R"('{"prompt": "x", "steps": 50}')", "/v1/videos", 400, "steps",
       "unknown_parameter"},
      {"remix with a size", json_post + R"('{"prompt": "y", "size": "32x32"}')", "/v1/videos/video_0123/remix", 400,
       "size", "unknown_parameter"},
      {"JSON of the wrong type", json_post + R"('{"prompt": ["x"]}')", "/v1/videos", 400, "prompt", ""},
      {"body not JSON", json_post + "'not json'", "/v1/videos", 400, "", ""},
      {"bad multipart", "-X POST -H 'Content-Type: multipart/form-data; boundary=xyz' --data-binary 'garbage'",
       "/v1/videos", 400, "", ""},
      {"unknown id", "", "/v1/videos/video_0123", 404, "", "not_found"},
      {"unknown id content", "", "/v1/videos/video_0123/content", 404, "", ""},
      {"unknown id delete", "-X DELETE", "/v1/videos/video_0123", 404, "", ""},
      {"unknown id remix", json_post + R"('{"prompt": "y"}')", "/v1/videos/video_0123/remix", 404, "", ""},
      {"bad limit", "", "/v1/videos?limit=0", 400, "limit", ""},
      {"bad order", "", "/v1/videos?order=sideways", 400, "order", ""},
      {"unknown cursor", "", "/v1/videos?after=video_0123", 404, "after", ""},
      {"wrong method on the collection", "-X DELETE", "/v1/videos", 405, "", "method_not_allowed"},
      {"wrong method on a video", "-X PUT --data-binary x", "/v1/videos/video_0123", 405, "", "method_not_allowed"},
  };
  for (const BadInput& row : table) {
    const HttpResult r = http(port, row.curl_args, row.path);
    EXPECT_EQ(r.status, row.status) << row.what << ": " << r.body;
    ASSERT_TRUE(r.body_json.contains("error")) << row.what << ": " << r.body;
    const json& error = r.body_json["error"];
    EXPECT_TRUE(error["message"].is_string() && !error["message"].get<std::string>().empty()) << row.what;
    EXPECT_TRUE(error["type"].is_string()) << row.what;
    if (!row.param.empty()) {
      EXPECT_EQ(error["param"], row.param) << row.what << ": " << r.body;
    }
    if (!row.code.empty()) {
      EXPECT_EQ(error["code"], row.code) << row.what << ": " << r.body;
    }
    EXPECT_NE(r.headers.find("application/json"), std::string::npos) << row.what;
  }
  // Deleting twice, and a content variant that does not exist.
  const HttpResult created = create_video(port, "-F prompt=twice");
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string id = created.body_json["id"];
  ASSERT_EQ(wait_until_done(port, id)["status"], "completed");
  const HttpResult variant = http(port, "", "/v1/videos/" + id + "/content?variant=poster");
  EXPECT_EQ(variant.status, 400) << variant.body;
  EXPECT_EQ(variant.body_json["error"]["param"], "variant");
  EXPECT_EQ(http(port, "-X DELETE", "/v1/videos/" + id).status, 200);
  const HttpResult again = http(port, "-X DELETE", "/v1/videos/" + id);
  EXPECT_EQ(again.status, 404) << again.body;
  EXPECT_EQ(again.body_json["error"]["code"], "not_found");
  EXPECT_EQ(http(port, "", "/health").status, 200) << "the server is still up:\n" << serve->log();
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

TEST_F(VideoApi, TheOfficialOpenAIClientCreatesPollsDownloadsListsAndDeletes) {
  if (std::system("command -v node >/dev/null 2>&1") != 0 || !fs::exists(kRepoRoot / "node_modules/openai/package.json")) {
    if (std::getenv("CI") != nullptr) FAIL() << "node and the openai npm package are required in CI";
    GTEST_SKIP() << "node or the openai npm package (npm ci) is missing";
  }
  auto serve = serve_video(state_dir_);
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  const std::string mp4 = temp_path("client_download.mp4");
  const std::string log = temp_path("node.log");
  const std::string command = "cd '" + kRepoRoot.string() + "' && FRUGAL_VIDEO_BASE_URL='http://127.0.0.1:" +
                              std::to_string(port) + "/v1' FRUGAL_VIDEO_MODEL='" + fs::path(wan_tiny_dir()).filename().string() +
                              "' FRUGAL_VIDEO_OUT='" + mp4 + "' timeout 300 node --test --test-reporter=spec " +
                              "tests/e2e/openai_videos.test.mjs > '" + log + "' 2>&1";
  const int rc = std::system(command.c_str());
  const std::string output = testing::read_text_file(log);
  EXPECT_EQ(rc, 0) << output << "\nserver log:\n" << serve->log();
  EXPECT_NE(output.find("pass 3"), std::string::npos) << output;
  EXPECT_NE(output.find("fail 0"), std::string::npos) << output;
  const auto probe = testing::run_command("ffprobe -v error -select_streams v:0 -count_frames -show_entries "
                                          "stream=codec_name,width,height,nb_read_frames -of default=nw=1 '" + mp4 + "'");
  EXPECT_EQ(probe.exit_code, 0) << probe.output;
  EXPECT_NE(probe.output.find("codec_name=h264"), std::string::npos) << probe.output;
  EXPECT_NE(probe.output.find("width=64"), std::string::npos) << probe.output;
  EXPECT_NE(probe.output.find("nb_read_frames=9"), std::string::npos) << probe.output;
  // The very bytes the client downloaded play in headless Chromium (its media viewer, from disk).
  if (testing::run_command("command -v chromium >/dev/null 2>&1").exit_code == 0) {
    const auto played = testing::run_command("cd '" + kRepoRoot.string() + "' && FRUGAL_PLAY_FILE='" + mp4 +
                                             "' timeout 120 node --test --test-reporter=spec tests/e2e/video_page.test.mjs 2>&1");
    EXPECT_EQ(played.exit_code, 0) << played.output;
    EXPECT_NE(played.output.find("pass 1"), std::string::npos) << played.output;
  } else if (std::getenv("CI") != nullptr) {
    ADD_FAILURE() << "chromium is required in CI";
  }
  // The served MP4 carries C2PA provenance that the reference validator (npm ci installs it beside
  // openai) trusts with the server's development CA, made in --video-state on first start.
  EXPECT_NE(serve->log().find("made a local development C2PA CA"), std::string::npos) << serve->log();
  testing::expect_c2pa_reference_validation(mp4, state_dir_ + "/c2pa/dev-ca.pem",
                                            fs::path(wan_tiny_dir()).filename().string());
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

TEST_F(VideoApi, AnIdempotencyKeyReplaysTheFirstJobAndJsonBodiesWork) {
  auto serve = serve_video(state_dir_);
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  const std::string args = "-X POST -H 'Idempotency-Key: k-1' -H 'Content-Type: application/json' --data-binary "
                           R"('{"prompt": "same", "seconds": 0.25, "seed": 5}')";
  const HttpResult first = http(port, args, "/v1/videos");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body_json["seconds"], "0.25");
  EXPECT_EQ(first.body_json["frames"], 5);
  EXPECT_EQ(first.body_json["seed"], 5);
  const HttpResult second = http(port, args, "/v1/videos");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.body_json["id"], first.body_json["id"]);
  EXPECT_NE(second.headers.find("Idempotent-Replayed: true"), std::string::npos) << second.headers;
  const json list = http(port, "", "/v1/videos").body_json;
  EXPECT_EQ(list["data"].size(), 1u) << list.dump();
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

TEST_F(VideoApi, MetricsCountTheJobAndArePromtoolClean) {
  auto serve = serve_video(state_dir_);
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  const HttpResult created = create_video(port, "-F prompt=metrics");
  ASSERT_EQ(created.status, 200) << created.body;
  const json done = wait_until_done(port, created.body_json["id"]);
  ASSERT_EQ(done["status"], "completed") << done.dump();
  EXPECT_NEAR(done["cost_usd"].get<double>(),
              done["compute_seconds"].get<double>() * 3.6 / 3600 / std::thread::hardware_concurrency(), 1e-12)
      << "cost = core-seconds x the price per core-second";
  const std::string metrics = http(port, "", "/metrics").body;
  for (const char* series : {"frugal_video_jobs_total{tier=\"draft\",outcome=\"completed\"} 1",
                             "frugal_video_queue_depth{tier=\"slow\"} 0", "frugal_video_jobs_submitted_total{tier=\"draft\"} 1",
                             "frugal_video_stage_seconds_count{stage=\"denoise_step\"} 1",
                             "frugal_video_cost_usd_count{tier=\"draft\"} 1",
                             "frugal_video_compute_seconds_count{tier=\"draft\"} 1"}) {
    EXPECT_NE(metrics.find(series), std::string::npos) << series << "\n" << metrics;
  }
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    const std::string path = temp_path("metrics.txt");
    std::ofstream(path) << metrics;
    const auto lint = testing::run_command("promtool check metrics < " + path + " 2>&1");
    EXPECT_EQ(lint.exit_code, 0) << lint.output;
    EXPECT_EQ(lint.output, "");
  }
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

// Submits `n` slow jobs; their ids.
std::vector<std::string> submit_slow_jobs(int port, int n) {
  std::vector<std::string> ids;
  for (int job_idx = 0; job_idx < n; ++job_idx) {
    const HttpResult r = create_video(port, "-F prompt=job" + std::to_string(job_idx) + " -F tier=slow");
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status == 200) ids.push_back(r.body_json["id"]);
  }
  return ids;
}

TEST_F(VideoApi, KillNineMidJobThenRestartCompletesEveryAcceptedJobExactlyOnce_slow) {
  auto first = serve_video(state_dir_);
  int port = first->wait_for_port();
  ASSERT_GT(port, 0) << first->log();
  const std::vector<std::string> ids = submit_slow_jobs(port, 3);
  ASSERT_EQ(ids.size(), 3u);
  // Wait until the first job is part-way through its denoising, then crash the server.
  std::string running;
  for (int attempt = 0; attempt < 600 && running.empty(); ++attempt) {
    const json video = http(port, "", "/v1/videos/" + ids[0]).body_json;
    if (video["status"] == "in_progress" && video["progress"].get<int>() >= 5) running = ids[0];
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(running, ids[0]) << first->log();
  first->kill_hard();
  const std::string first_log = first->log();
  EXPECT_EQ(count_occurrences(first_log, "video job " + ids[0] + " completed"), 0) << first_log;

  auto second = serve_video(state_dir_);
  port = second->wait_for_port();
  ASSERT_GT(port, 0) << second->log();
  for (const std::string& id : ids) {
    const json video = wait_until_done(port, id);
    EXPECT_EQ(video["status"], "completed") << video.dump();
    EXPECT_EQ(http(port, "", "/v1/videos/" + id + "/content").status, 200);
  }
  EXPECT_EQ(http(port, "", "/v1/videos/" + ids[0]).body_json["attempts"], 2) << "the interrupted job ran again";
  const std::string logs = first_log + second->log();
  for (const std::string& id : ids) {
    EXPECT_EQ(count_occurrences(logs, "video job " + id + " completed"), 1) << id << "\n" << logs;
  }
  const auto completions = testing::run_command("sqlite3 " + state_dir_ + "/jobs.sqlite "
                                                "'SELECT COUNT(*), SUM(completions) FROM jobs'");
  if (completions.exit_code == 0) {
    EXPECT_EQ(completions.output, "3|3\n");
  }
  EXPECT_EQ(second->stop(), 0) << second->log();
}

TEST_F(VideoApi, OverloadGives429WithRetryAfterNeverA5xxAndEveryAcceptedJobCompletes_slow) {
  auto serve = serve_video(state_dir_, {"--video-max-queue", "3"});
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  std::vector<std::string> accepted;
  int rejected = 0;
  for (int job_idx = 0; job_idx < 12; ++job_idx) {  // 3x (queue + the one running) and more
    const HttpResult r = create_video(port, "-F prompt=load" + std::to_string(job_idx) + " -F tier=slow");
    ASSERT_LT(r.status, 500) << r.body;
    if (r.status == 200) {
      accepted.push_back(r.body_json["id"]);
      continue;
    }
    ++rejected;
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_EQ(r.body_json["error"]["type"], "rate_limit_error") << r.body;
    EXPECT_TRUE(std::regex_search(r.headers, std::regex(R"(Retry-After: [1-9][0-9]*)"))) << r.headers;
  }
  EXPECT_GE(rejected, 6) << "a queue of 3 cannot take 12 slow jobs at once";
  EXPECT_LE(accepted.size(), 5u);
  for (const std::string& id : accepted) EXPECT_EQ(wait_until_done(port, id)["status"], "completed") << id;
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

TEST_F(VideoApi, DeletingARunningJobCancelsIt) {
  auto serve = serve_video(state_dir_);
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  const std::vector<std::string> ids = submit_slow_jobs(port, 2);
  ASSERT_EQ(ids.size(), 2u);
  for (int attempt = 0; attempt < 600; ++attempt) {
    if (http(port, "", "/v1/videos/" + ids[0]).body_json.value("status", "") == "in_progress") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const HttpResult queued = http(port, "", "/v1/videos/" + ids[1]);
  EXPECT_EQ(queued.body_json["queue_position"], 1) << queued.body;
  EXPECT_EQ(http(port, "-X DELETE", "/v1/videos/" + ids[0]).status, 200);
  EXPECT_EQ(http(port, "-X DELETE", "/v1/videos/" + ids[1]).status, 200);
  for (int attempt = 0; attempt < 300 && serve->log().find("cancelled") == std::string::npos; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(serve->log().find("video job " + ids[0] + " cancelled"), std::string::npos) << serve->log();
  EXPECT_EQ(http(port, "", "/v1/videos").body_json["data"].size(), 0u);
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

TEST_F(VideoApi, ThePageMakesAVideoAndPlaysItInHeadlessChromium) {
  if (testing::run_command("command -v chromium >/dev/null 2>&1 && command -v node >/dev/null 2>&1").exit_code != 0) {
    if (std::getenv("CI") != nullptr) FAIL() << "chromium and node are required in CI";
    GTEST_SKIP() << "chromium or node is not installed";
  }
  auto serve = serve_video(state_dir_);
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  const HttpResult page = http(port, "", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<option value=\"draft\">"), std::string::npos) << page.body;
  // tests/e2e/video_page.test.mjs drives Chromium over the DevTools protocol in real time (no
  // virtual time: that raced the job and the media pipeline on a loaded machine): #autostart
  // submits the form, the page polls to completion, shows the cost and plays the clip.
  const std::string screenshot = temp_path("page.png");
  const std::string log = temp_path("page_node.log");
  const std::string command = "cd '" + kRepoRoot.string() + "' && FRUGAL_PAGE_URL='http://127.0.0.1:" + std::to_string(port) +
                              "/#autostart' FRUGAL_PAGE_SCREENSHOT='" + screenshot +
                              "' timeout 300 node --test --test-reporter=spec tests/e2e/video_page.test.mjs > '" + log + "' 2>&1";
  const int rc = std::system(command.c_str());
  const std::string output = testing::read_text_file(log);
  EXPECT_EQ(rc, 0) << output << "\nserver log:\n" << serve->log();
  EXPECT_NE(output.find("pass 1"), std::string::npos) << output;
  EXPECT_NE(output.find("fail 0"), std::string::npos) << output;
  EXPECT_GT(fs::exists(screenshot) ? fs::file_size(screenshot) : 0, 1000u) << "a screenshot of the page";
  const HttpResult list = http(port, "", "/v1/videos?limit=1&order=desc");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(nlohmann::json::parse(list.body)["data"][0]["status"], "completed") << list.body;
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

}  // namespace
}  // namespace frugal
