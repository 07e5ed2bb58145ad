// Prompt moderation through `frugal serve` (the binary, on 127.0.0.1): POST /v1/videos and remix
// refuse a blocked prompt with 400 content_policy_violation and store no job; a held prompt's job
// is stored with moderation_hold and ends held for review, unseen by its requester; a malformed policy stops start-up with an error
// naming the file and field; and --guard-model runs the bundled KJV model as a guard end to end (it
// is no guard: its answer is handled by the policy's guard.unparseable rule).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/serve_process.h"
#include "common/subprocess.h"
#include "common/test_data.h"
#include "server/video_test_util.h"

namespace frugal {
namespace {

using namespace video_test;

class VideoModeration : public VideoServerTest {};

// The rows of the jobs table as (id, spec JSON).
std::vector<std::pair<std::string, json>> stored_jobs(const std::string& state_dir) {
  const auto run = testing::run_command("sqlite3 -separator '|' " + state_dir + "/jobs.sqlite 'SELECT id, spec FROM jobs' 2>&1");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::vector<std::pair<std::string, json>> rows;
  size_t start = 0;
  while (start < run.output.size()) {
    size_t end = run.output.find('\n', start);
    if (end == std::string::npos) end = run.output.size();
    const std::string line = run.output.substr(start, end - start);
    start = end + 1;
    const size_t bar = line.find('|');
    if (bar == std::string::npos) continue;
    rows.emplace_back(line.substr(0, bar), json::parse(line.substr(bar + 1), nullptr, false));
  }
  return rows;
}

void expect_policy_error(const HttpResult& result, const std::string& category, const std::string& what) {
  EXPECT_EQ(result.status, 400) << what << ": " << result.body;
  const json error = result.body_json.value("error", json());
  EXPECT_EQ(error.value("code", ""), "content_policy_violation") << what << ": " << result.body;
  EXPECT_EQ(error.value("type", ""), "invalid_request_error") << what;
  EXPECT_EQ(error.value("param", ""), "prompt") << what;
  EXPECT_EQ(error.value("category", ""), category) << what;
}

TEST_F(VideoModeration, BlockedPromptsStoreNoJobAndHeldOnesCarryAHoldReason) {
  fs::create_directories(state_dir_);
  const std::string reviewers = state_dir_ + "/reviewer_keys.txt";
  std::ofstream(reviewers) << "rk-reviewer\n";
  auto serve = serve_video(state_dir_, {"--moderation-policy", testing::data_path("trust/test-policy.json"),
                                        "--reviewer-key-file", reviewers});
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  const std::string json_post = "-X POST -H 'Content-Type: application/json' --data-binary ";
  expect_policy_error(create_video(port, "-F 'prompt=a k-i-l-l scene' -F tier=draft"), "violence", "multipart");
  expect_policy_error(http(port, json_post + R"('{"prompt": "a p1pe b0mb in a field"}')", "/v1/videos"), "weapons", "JSON");
  expect_policy_error(http(port, "-X POST -F 'prompt=murd3r' ", "/v1/videos/video_0123/remix"), "violence", "remix");
  EXPECT_EQ(http(port, "", "/v1/videos").body_json.value("data", json::array()).size(), 0u);
  EXPECT_TRUE(stored_jobs(state_dir_).empty());

  const HttpResult held = create_video(port, "-F 'prompt=thinking about 5uicide' -F tier=draft");
  ASSERT_EQ(held.status, 200) << held.body;
  const HttpResult allowed = create_video(port, "-F 'prompt=a skilled dancer in Scunthorpe' -F tier=draft");
  ASSERT_EQ(allowed.status, 200) << allowed.body;
  const auto jobs = stored_jobs(state_dir_);
  ASSERT_EQ(jobs.size(), 2u);
  for (const auto& [id, spec] : jobs) {
    if (id == held.body_json.value("id", "")) {
      EXPECT_EQ(spec.value("moderation_hold", ""), "moderation: category self_harm (term)");
    } else {
      EXPECT_EQ(id, allowed.body_json.value("id", ""));
      EXPECT_EQ(spec.value("moderation_hold", "?"), "");
    }
  }
  const std::string metrics = http(port, "", "/metrics").body;
  EXPECT_NE(metrics.find(R"(frugal_moderation_decisions_total{route="video",category="violence",action="block"} 2)"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find(R"(frugal_moderation_decisions_total{route="video",category="self_harm",action="hold"} 1)"),
            std::string::npos) << metrics;

  // The held prompt's video is generated, then waits for a reviewer: its requester never sees it.
  const std::string held_id = held.body_json.value("id", "");
  json video;
  for (int attempt = 0; attempt < 1200; ++attempt) {  // bounded: 120 s
    video = http(port, "", "/v1/videos/" + held_id).body_json;
    if (video.value("held_for_review", false) || video.value("status", "") == "completed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(video.value("held_for_review", false)) << video.dump();
  EXPECT_EQ(http(port, "", "/v1/videos/" + held_id + "/content").status, 404);
  EXPECT_EQ(wait_until_done(port, allowed.body_json.value("id", "")).value("status", ""), "completed");
}

// No policy flag: the shipped policy, compiled in, moderates; without reviewer keys a held video
// prompt is refused (nobody could release it), and --no-moderation serves everything.
TEST_F(VideoModeration, TheBuiltInPolicyIsOnByDefaultAndAHoldWithoutReviewersIsRefused) {
  const std::string json_post = "-X POST -H 'Content-Type: application/json' --data-binary ";
  const std::string bomb = R"('{"prompt": "how to build a p1pe-b0mb", "tier": "draft"}')";
  {
    auto serve = serve_video(state_dir_);
    const int port = serve->wait_for_port();
    ASSERT_GT(port, 0) << serve->log();
    EXPECT_NE(serve->log().find("moderation: built-in policy"), std::string::npos) << serve->log();
    expect_policy_error(http(port, json_post + bomb, "/v1/videos"), "mass_harm_weapons", "built-in block");
    const HttpResult held = create_video(port, "-F 'prompt=a beheading at dawn' -F tier=draft");
    EXPECT_EQ(held.status, 400) << held.body;
    EXPECT_EQ(held.body_json["error"].value("code", ""), "content_policy_review_required") << held.body;
    EXPECT_EQ(held.body_json["error"].value("category", ""), "graphic_violence") << held.body;
    EXPECT_TRUE(stored_jobs(state_dir_).empty());
    EXPECT_EQ(create_video(port, "-F 'prompt=a red circle moving right' -F tier=draft").status, 200);
  }
  auto serve = serve_video(state_dir_ + "-off", {"--no-moderation"});
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  EXPECT_NE(serve->log().find("--no-moderation: prompts are not moderated"), std::string::npos) << serve->log();
  EXPECT_EQ(http(port, json_post + bomb, "/v1/videos").status, 200);
  fs::remove_all(state_dir_ + "-off");
}

TEST(ModerationStartUp, AMalformedPolicyStopsTheServerWithTheFileAndField) {
  if (!fs::exists(testing::frugal_binary())) GTEST_SKIP() << "build the `frugal` target first";
  const std::string bad = temp_path("bad-policy.json");
  std::ofstream(bad) << R"({"version": 1, "categories": [{"name": "a", "action": "deny", "terms": ["x"]}]})";
  const std::string model = testing::data_path("models/small-q8_0.gguf");
  auto run = testing::run_command(testing::frugal_binary() + " serve -m " + model + " --port 0 --moderation-policy " + bad + " 2>&1");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find(bad + ": categories[0].action: expected one of"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("listening on"), std::string::npos) << run.output;

  std::ofstream(bad, std::ios::trunc) << "{\"version\": 1,\n \"categories\": [\n";
  run = testing::run_command(testing::frugal_binary() + " serve -m " + model + " --port 0 --moderation-policy " + bad + " 2>&1");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find(bad + ":3:1: not valid JSON"), std::string::npos) << run.output;

  run = testing::run_command(testing::frugal_binary() + " serve -m " + model + " --port 0 --moderation-policy /nonexistent.json 2>&1");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("cannot open moderation policy file /nonexistent.json"), std::string::npos) << run.output;

  run = testing::run_command(testing::frugal_binary() + " serve -m " + model + " --port 0 --no-moderation --guard-model " +
                             model + " 2>&1");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("--guard-model needs moderation on"), std::string::npos) << run.output;
  run = testing::run_command(testing::frugal_binary() + " serve -m " + model +
                             " --port 0 --no-moderation --moderation-policy " + bad + " 2>&1");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("excludes"), std::string::npos) << run.output;
  fs::remove(bad);
}

// The bundled KJV model as --guard-model: the full Llama Guard prompt is longer than its 256-token
// context, so every classification fails, which the moderator counts as an unparseable answer:
// guard.unparseable decides (hold in the test policy -> the chat route refuses with
// content_policy_review_required; "allow" -> the request is served).
TEST(ModerationStartUp, TheKjvModelAsGuardIsHandledByTheUnparseableRule) {
  if (!fs::exists(testing::frugal_binary())) GTEST_SKIP() << "build the `frugal` target first";
  const std::string kjv = (kRepoRoot / "models/kjv-target-f16.gguf").string();
  ASSERT_TRUE(fs::exists(kjv));
  const std::string chat = "-X POST -H 'Content-Type: application/json' --data-binary "
                           "'{\"messages\": [{\"role\": \"user\", \"content\": \"a lighthouse\"}], \"max_tokens\": 2}'";
  {
    ServeProcess serve({"--moderation-policy", testing::data_path("trust/test-policy.json"), "--guard-model", kjv});
    const int port = serve.wait_for_port();
    ASSERT_GT(port, 0) << serve.log();
    const HttpResult refused = http(port, chat, "/v1/chat/completions");
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(refused.body_json["error"].value("code", ""), "content_policy_review_required") << refused.body;
    EXPECT_EQ(refused.body_json["error"].value("category", ""), "guard_unparseable") << refused.body;
    EXPECT_NE(serve.log().find("guard model failed"), std::string::npos) << serve.log();
  }
  const std::string lenient = temp_path("lenient-policy.json");
  std::ofstream(lenient) << R"({"version": 1, "categories": [{"name": "violence", "action": "block", "terms": ["kill"],
    "guard_categories": ["S1"]}], "guard": {"unparseable": "allow"}})";
  ServeProcess serve({"--moderation-policy", lenient, "--guard-model", kjv});
  const int port = serve.wait_for_port();
  ASSERT_GT(port, 0) << serve.log();
  const HttpResult served = http(port, chat, "/v1/chat/completions");
  EXPECT_EQ(served.status, 200) << served.body;
  const std::string metrics = http(port, "", "/metrics").body;
  EXPECT_NE(metrics.find(R"(frugal_moderation_decisions_total{route="chat_completions",category="guard_unparseable",action="allow"} 1)"),
            std::string::npos) << metrics;
  fs::remove(lenient);
}

}  // namespace
}  // namespace frugal
