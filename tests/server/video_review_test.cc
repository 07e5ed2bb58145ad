// Post-generation checks and human review through `frugal serve` (docs/design/trust-review.md):
// a flagged video is held (in_progress to its requester, no content), waits in the review queue
// behind the reviewer keys, survives a restart, and is released by an approval or deleted by a
// rejection. The wan-tiny model makes the videos (draft tier: 64x64, 9 frames).
#include <fstream>

#include "media/mp4_reader.h"
#include "server/video_test_util.h"
#include "trust/audit_sink.h"
#include "trust/pdq.h"

namespace frugal::video_test {
namespace {

const std::string kApiKey = "sk-requester-key";
const std::string kReviewerKey = "rk-reviewer-key";

class VideoReview : public VideoServerTest {
 protected:
  void SetUp() override {
    VideoServerTest::SetUp();
    if (IsSkipped()) return;
    fs::create_directories(state_dir_);
    api_keys_ = state_dir_ + "/api_keys.txt";
    reviewer_keys_ = state_dir_ + "/reviewer_keys.txt";
    std::ofstream(api_keys_) << kApiKey << "\n";
    std::ofstream(reviewer_keys_) << "# reviewers\n" << kReviewerKey << "\n";
  }

  std::unique_ptr<ServeProcess> serve_with(const std::vector<std::string>& checks) {
    std::vector<std::string> args = {"--api-key-file", api_keys_, "--reviewer-key-file", reviewer_keys_};
    args.insert(args.end(), checks.begin(), checks.end());
    return serve_video(state_dir_ + "/state", args);
  }

  static std::string as(const std::string& key) { return "-H 'Authorization: Bearer " + key + "' "; }

  std::string submit(int port, const std::string& prompt) {
    const HttpResult created = create_video(port, as(kApiKey) + "-F 'prompt=" + prompt + "' -F tier=draft -F seed=7");
    EXPECT_EQ(created.status, 200) << created.body;
    return created.body_json.value("id", "");
  }

  // Polls (bounded) until the job is held, completed or failed; the last object seen.
  json wait_until_settled(int port, const std::string& id) {
    json video;
    for (int attempt = 0; attempt < 1200; ++attempt) {
      video = http(port, as(kApiKey), "/v1/videos/" + id).body_json;
      const std::string status = video.value("status", "");
      if (video.value("held_for_review", false) || status == "completed" || status == "failed") return video;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return video;
  }

  std::string api_keys_, reviewer_keys_;
};

TEST_F(VideoReview, FlaggedVideoIsHeldInvisibleApprovedOrRejectedByReviewersOnly) {
  // The operator's classifier flags every video.
  auto serve = serve_with({"--classifier-command", "sh -c 'echo violence 0.93; exit 1' classify"});
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();

  const std::string id = submit(port, "a red fox");
  const json held = wait_until_settled(port, id);
  ASSERT_TRUE(held.value("held_for_review", false)) << held.dump();
  EXPECT_EQ(held["status"], "in_progress");  // what OpenAI's clients know
  const HttpResult hidden = http(port, as(kApiKey), "/v1/videos/" + id + "/content");
  EXPECT_EQ(hidden.status, 404) << hidden.body;
  EXPECT_EQ(hidden.body_json["error"]["type"], "invalid_request_error") << hidden.body;

  // Reviewer auth: none or unknown → 401, an API key → 403, a reviewer key → the queue.
  EXPECT_EQ(http(port, "", "/v1/review/videos").status, 401);
  EXPECT_EQ(http(port, as("rk-wrong"), "/v1/review/videos").status, 401);
  const HttpResult by_requester = http(port, as(kApiKey), "/v1/review/videos");
  EXPECT_EQ(by_requester.status, 403) << by_requester.body;
  EXPECT_EQ(by_requester.body_json["error"]["code"], "insufficient_permissions");
  EXPECT_EQ(http(port, as(kApiKey), "/v1/review/videos/" + id + "/approve").status, 403);
  EXPECT_EQ(http(port, as(kReviewerKey), "/v1/videos").status, 401);  // a reviewer key is not an API key
  const HttpResult queue = http(port, as(kReviewerKey), "/v1/review/videos");
  ASSERT_EQ(queue.status, 200) << queue.body;
  ASSERT_EQ(queue.body_json["data"].size(), 1u) << queue.body;

  // Show one: prompt, checks, frames as images.
  const HttpResult shown = http(port, as(kReviewerKey), "/v1/review/videos/" + id);
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_EQ(shown.body_json["prompt"], "a red fox");
  EXPECT_EQ(shown.body_json["status"], "held_for_review");
  EXPECT_EQ(shown.body_json["checks"][0]["check"], "classifier");
  EXPECT_EQ(shown.body_json["checks"][0]["detail"], "violence 0.93");
  EXPECT_NE(shown.body_json["hold_reason"].get<std::string>().find("violence"), std::string::npos);
  ASSERT_EQ(shown.body_json["frames"].size(), 2u) << shown.body;  // frames 0 and 8 of 9
  const HttpResult frame = http(port, as(kReviewerKey), shown.body_json["frames"][1]["url"].get<std::string>());
  EXPECT_EQ(frame.status, 200);
  EXPECT_EQ(frame.body.substr(1, 3), "PNG");
  EXPECT_EQ(http(port, as(kReviewerKey), "/v1/review/videos/" + id + "/frames/3").status, 404);
  EXPECT_EQ(http(port, as(kReviewerKey), "/v1/review/videos/" + id + "/content").status, 200);

  // Bad decisions: a rejection without a reason, a non-JSON body, GET on approve.
  const std::string json_body = "-H 'Content-Type: application/json' ";
  EXPECT_EQ(http(port, as(kReviewerKey) + json_body + "-d '{}'", "/v1/review/videos/" + id + "/reject").status, 400);
  EXPECT_EQ(http(port, as(kReviewerKey) + json_body + "-d '[1'", "/v1/review/videos/" + id + "/approve").status, 400);
  EXPECT_EQ(http(port, as(kReviewerKey), "/v1/review/videos/" + id + "/approve").status, 405);
  EXPECT_EQ(http(port, as(kReviewerKey) + json_body + "-d '{}'", "/v1/review/videos/video_nope/approve").status, 404);

  // Approve: the requester gets the video.
  const HttpResult approved =
      http(port, as(kReviewerKey) + json_body + "-d '{\"reason\": \"stage combat\"}'", "/v1/review/videos/" + id + "/approve");
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(approved.body_json["decision"]["approved"], true);
  EXPECT_EQ(approved.body_json["decision"]["reason"], "stage combat");
  const json released = http(port, as(kApiKey), "/v1/videos/" + id).body_json;
  EXPECT_EQ(released["status"], "completed") << released.dump();
  EXPECT_EQ(released["held_for_review"], false);
  const HttpResult content = http(port, as(kApiKey), "/v1/videos/" + id + "/content");
  EXPECT_EQ(content.status, 200);
  EXPECT_EQ(content.body.substr(4, 4), "ftyp");
  EXPECT_EQ(http(port, as(kReviewerKey) + json_body + "-d '{}'", "/v1/review/videos/" + id + "/approve").status, 400);

  // Reject: deleted from storage, failed with the reason.
  const std::string second = submit(port, "a blue fox");
  ASSERT_TRUE(wait_until_settled(port, second).value("held_for_review", false));
  ASSERT_TRUE(fs::exists(state_dir_ + "/state/files/objects/" + second));
  const HttpResult rejected = http(port, as(kReviewerKey) + json_body + "-d '{\"reason\": \"graphic violence\"}'",
                                   "/v1/review/videos/" + second + "/reject");
  ASSERT_EQ(rejected.status, 200) << rejected.body;
  const json failed = http(port, as(kApiKey), "/v1/videos/" + second).body_json;
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["error"]["code"], "content_rejected");
  EXPECT_EQ(failed["error"]["message"], "graphic violence");
  EXPECT_EQ(http(port, as(kApiKey), "/v1/videos/" + second + "/content").status, 404);
  EXPECT_EQ(http(port, as(kReviewerKey), "/v1/review/videos/" + second + "/content").status, 404);
  EXPECT_FALSE(fs::exists(state_dir_ + "/state/files/objects/" + second));
  EXPECT_EQ(http(port, as(kReviewerKey), "/v1/review/videos").body_json["data"].size(), 0u);
  const std::string metrics = http(port, "", "/metrics").body;
  for (const char* series : {"frugal_video_jobs_total{tier=\"draft\",outcome=\"held\"} 2",
                             "frugal_video_jobs_total{tier=\"draft\",outcome=\"approved\"} 1",
                             "frugal_video_jobs_total{tier=\"draft\",outcome=\"rejected\"} 1"}) {
    EXPECT_NE(metrics.find(series), std::string::npos) << series;
  }
  EXPECT_EQ(serve->stop(), 0) << serve->log();

  // Both decisions are in the audit log, after each job's held_for_review record, naming the
  // reviewer by its key id (never the key) and the rejection's reason; the chain verifies.
  const std::string audit = state_dir_ + "/state/audit.jsonl";
  std::ifstream in(audit);
  std::vector<json> reviews;
  for (std::string line; std::getline(in, line);) {
    const json record = json::parse(line, nullptr, false);
    if (record.is_object() && record.value("kind", "") == "video_review") reviews.push_back(record);
  }
  ASSERT_EQ(reviews.size(), 2u) << testing::read_text_file(audit);
  EXPECT_EQ(reviews[0]["request_id"], id);
  EXPECT_EQ(reviews[0]["outcome"], "approved");
  EXPECT_EQ(reviews[0]["endpoint"], "/v1/review/videos/" + id + "/approve");
  EXPECT_EQ(reviews[0]["key_id"], trust::api_key_id(kReviewerKey));
  EXPECT_EQ(reviews[1]["request_id"], second);
  EXPECT_EQ(reviews[1]["outcome"], "rejected");
  EXPECT_NE(reviews[1].dump().find("graphic violence"), std::string::npos) << reviews[1].dump();
  EXPECT_NE(reviews[1].dump().find("violence 0.93"), std::string::npos) << reviews[1].dump();  // the hold's reason
  EXPECT_EQ(reviews[1].dump().find(kReviewerKey), std::string::npos);
  const auto verified = testing::run_command(testing::frugal_binary() + " audit verify " + audit + " 2>&1");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
}

TEST_F(VideoReview, FramesMatchingTheHashListAreHeldAndTheQueueSurvivesARestart) {
  // 1. A list with an unrelated hash: the video is released; hash its decoded frame 0.
  const std::string unrelated = state_dir_ + "/unrelated.txt";
  std::ofstream(unrelated) << "db19d9794966271c369924e2c893d9993b29ce36a4e45b4bb69ca5244af45ad9 mandelbrot\n";
  std::string frame_hash;
  {
    auto serve = serve_with({"--pdq-hash-list", unrelated, "--pdq-min-quality", "0"});
    const int port = serve->wait_for_port();
    ASSERT_GT(port, 0) << serve->log();
    const std::string id = submit(port, "a lighthouse at dusk");
    const json done = wait_until_settled(port, id);
    ASSERT_EQ(done["status"], "completed") << done.dump();
    const HttpResult mp4 = http(port, as(kApiKey), "/v1/videos/" + id + "/content");
    ASSERT_EQ(mp4.status, 200);
    const std::string path = state_dir_ + "/first.mp4";
    std::ofstream(path, std::ios::binary) << mp4.body;
    auto decoded = media::read_mp4(path, {1});
    ASSERT_TRUE(decoded) << decoded.error().to_string();
    auto pdq = trust::pdq_hash_rgb(decoded->frames.data(), decoded->info.width, decoded->info.height,
                                   decoded->frames.size());
    ASSERT_TRUE(pdq);
    frame_hash = pdq->hash.to_hex();
    EXPECT_EQ(serve->stop(), 0) << serve->log();
  }
  // 2. The operator lists that frame: the same prompt and seed again is held.
  const std::string listed = state_dir_ + "/listed.txt";
  std::ofstream(listed) << "# known content\n" << frame_hash << ",lighthouse-case-17\n";
  std::string id;
  {
    auto serve = serve_with({"--pdq-hash-list", listed, "--pdq-min-quality", "0"});
    const int port = serve->wait_for_port();
    ASSERT_GT(port, 0) << serve->log();
    id = submit(port, "a lighthouse at dusk");
    const json held = wait_until_settled(port, id);
    ASSERT_TRUE(held.value("held_for_review", false)) << held.dump();
    EXPECT_EQ(http(port, as(kApiKey), "/v1/videos/" + id + "/content").status, 404);
    EXPECT_EQ(serve->stop(), 0) << serve->log();
  }
  // 3. After a restart it is still held and in the queue, with the match as evidence; approve it.
  auto serve = serve_with({"--pdq-hash-list", listed, "--pdq-min-quality", "0"});
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  EXPECT_TRUE(http(port, as(kApiKey), "/v1/videos/" + id).body_json.value("held_for_review", false));
  const HttpResult queue = http(port, as(kReviewerKey), "/v1/review/videos");
  ASSERT_EQ(queue.body_json["data"].size(), 1u) << queue.body;
  const json& entry = queue.body_json["data"][0];
  EXPECT_EQ(entry["id"], id);
  EXPECT_EQ(entry["checks"][0]["check"], "pdq_hash_list");
  EXPECT_NE(entry["checks"][0]["detail"].get<std::string>().find("lighthouse-case-17"), std::string::npos) << entry.dump();
  EXPECT_EQ(http(port, as(kReviewerKey) + "-H 'Content-Type: application/json' -d '{}'",
                 "/v1/review/videos/" + id + "/approve")
                .status,
            200);
  EXPECT_EQ(http(port, as(kApiKey), "/v1/videos/" + id + "/content").status, 200);
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

TEST_F(VideoReview, MalformedHashListOrMissingReviewerKeysStopTheStart) {
  const std::string bad = state_dir_ + "/bad.txt";
  std::ofstream(bad) << "db19d9794966271c369924e2c893d9993b29ce36a4e45b4bb69ca5244af45ad9\nnot-a-hash\n";
  const std::string serve = "timeout 60 " + testing::frugal_binary() + " serve --port 0 --video-model " + wan_tiny_dir() +
                            " --video-state " + state_dir_ + "/state";
  const auto malformed = testing::run_command(serve + " --reviewer-key-file " + reviewer_keys_ + " --pdq-hash-list " +
                                              bad + " 2>&1");
  EXPECT_NE(malformed.exit_code, 0);
  EXPECT_NE(malformed.output.find(bad + ":2:"), std::string::npos) << malformed.output;
  const auto no_reviewers = testing::run_command(serve + " --classifier-command true 2>&1");
  EXPECT_NE(no_reviewers.exit_code, 0);
  EXPECT_NE(no_reviewers.output.find("--reviewer-key-file"), std::string::npos) << no_reviewers.output;
  const std::string empty_keys = state_dir_ + "/empty_keys.txt";
  std::ofstream(empty_keys) << "# nobody\n";
  const auto empty = testing::run_command(serve + " --reviewer-key-file " + empty_keys + " 2>&1");
  EXPECT_NE(empty.exit_code, 0);
  EXPECT_NE(empty.output.find("--reviewer-key-file"), std::string::npos) << empty.output;
}

}  // namespace
}  // namespace frugal::video_test
