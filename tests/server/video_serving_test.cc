// How the video service is served, end to end against `frugal serve` on a wan-tiny model: video only
// (no --model: the LLM routes answer 404 model_not_found), /v1/models listing the video models beside
// the language model, the per-API-key limit (429 + Retry-After for that key only), and webhooks
// (one signed video.completed event per job, retried after the receiver's 500; the signature checked
// with OpenSSL in tests/common/webhook_receiver.h). Loopback only; every wait bounded.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/webhook_receiver.h"
#include "server/video_test_util.h"

namespace frugal {
namespace {

using namespace video_test;

std::string wan_tiny_name() { return fs::path(wan_tiny_dir()).filename().string(); }

class VideoServing : public video_test::VideoServerTest {};

TEST_F(VideoServing, VideoOnlyServesVideosAndTheLlmRoutesAnswerModelNotFound) {
  auto serve = ServeProcess::with_exact_args({"--video-model", wan_tiny_dir(), "--video-tiers", tiers_file(),
                                              "--video-state", state_dir_, "--host", "127.0.0.1", "--port", "0", "-t",
                                              "2"});
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  const HttpResult models = http(port, "", "/v1/models");
  ASSERT_EQ(models.status, 200) << models.body;
  ASSERT_EQ(models.body_json["data"].size(), 1u) << models.body;
  const json& entry = models.body_json["data"][0];
  EXPECT_EQ(entry["id"], wan_tiny_name());
  EXPECT_EQ(entry["object"], "model");
  EXPECT_EQ(entry["owned_by"], "frugal");
  EXPECT_EQ(entry["frugal_modality"], "video");
  EXPECT_EQ(http(port, "", "/v1/models/" + wan_tiny_name()).body_json["frugal_modality"], "video");
  const std::string json_post = "-X POST -H 'Content-Type: application/json' --data-binary ";
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/chat/completions", R"('{"messages": [{"role": "user", "content": "hi"}]}')"},
           {"/v1/chat/completions", R"('{"model": "auto", "messages": [{"role": "user", "content": "hi"}]}')"},
           {"/v1/completions", R"('{"model": "small", "prompt": "hi"}')"}}) {
    const HttpResult r = http(port, json_post + body, path);
    EXPECT_EQ(r.status, 404) << path << " " << body << ": " << r.body;
    EXPECT_EQ(r.body_json["error"]["code"], "model_not_found") << r.body;
    EXPECT_NE(r.body_json["error"]["message"].get<std::string>().find("video"), std::string::npos) << r.body;
  }
  const HttpResult created = create_video(port, "-F prompt=alone");
  ASSERT_EQ(created.status, 200) << created.body;
  const json done = wait_until_done(port, created.body_json["id"]);
  EXPECT_EQ(done["status"], "completed") << serve->log();
  EXPECT_FALSE(done.contains("frugal_download_url")) << "the local store has no direct URLs";
  EXPECT_EQ(http(port, "", "/health").status, 200);
  EXPECT_NE(serve->log().find("/v1/videos"), std::string::npos) << "the start-up hints show the video curl";
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

TEST_F(VideoServing, BadServeFlagsAreClearErrorsBeforeAnythingLoads) {
  const std::string video = " --video-model " + wan_tiny_dir() + " --video-state " + state_dir_;
  const std::pair<std::string, std::string> cases[] = {
      {"", "nothing to serve"},
      {"--route fast=x" + video, "--route need"},
      {video + " --video-webhook-url http://127.0.0.1:9/hook", "--video-webhook-secret"},
      {video + " --video-webhook-url http://127.0.0.1:9/hook --video-webhook-secret whsec_c2hvcnQ=", "at least 16"},
      {video + " --video-webhook-url ftp://x --video-webhook-secret " + testing::kWebhookSecret, "http://"},
      {video + " --video-webhook-secret " + testing::kWebhookSecret, "needs --video-webhook-url"},
      {video + " --video-max-queued-per-key=-3", "video-max-queued-per-key"},
      {video + " --c2pa-key " + tiers_file(), "--c2pa-key needs --c2pa-cert"},
      {video + " --c2pa-key " + state_dir_ + "/absent.pem --c2pa-cert " + tiers_file(), "cannot open the C2PA key"},
      {video + " --c2pa-key " + tiers_file() + " --c2pa-cert " + tiers_file(), "not a PEM private key"},
  };
  for (const auto& [args, needle] : cases) {
    const auto r = testing::run_command(testing::frugal_binary() + " serve --port 0 " + args + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
    EXPECT_EQ(r.output.find("listening on"), std::string::npos) << args;
  }
}

TEST_F(VideoServing, ModelsListsTheLanguageModelAndTheVideoModel) {
  auto serve = serve_video(state_dir_);
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  const HttpResult models = http(port, "", "/v1/models");
  std::map<std::string, json> by_id;
  for (const json& model : models.body_json["data"]) by_id[model["id"]] = model;
  ASSERT_EQ(by_id.size(), 2u);
  ASSERT_TRUE(by_id.count("small") && by_id.count(wan_tiny_name()));
  EXPECT_FALSE(by_id["small"].contains("frugal_modality"));
  EXPECT_EQ(by_id[wan_tiny_name()]["frugal_modality"], "video");
  EXPECT_EQ(by_id[wan_tiny_name()]["object"], "model");
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

TEST_F(VideoServing, APerKeyLimitGives429WithRetryAfterToThatKeyOnly) {
  auto serve = serve_video(state_dir_, {"--video-max-queued-per-key", "1"});
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  const auto submit = [&](const std::string& key) {
    const std::string auth = key.empty() ? "" : "-H 'Authorization: Bearer " + key + "' ";
    return create_video(port, auth + "-F prompt=limited -F tier=slow");  // seconds: still active below
  };
  const HttpResult alice = submit("alice");
  ASSERT_EQ(alice.status, 200) << alice.body;
  const HttpResult refused = submit("alice");
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.body_json["error"]["type"], "rate_limit_error") << refused.body;
  EXPECT_NE(refused.body_json["error"]["message"].get<std::string>().find("API key"), std::string::npos);
  EXPECT_NE(refused.headers.find("Retry-After:"), std::string::npos) << refused.headers;
  const HttpResult bob = submit("bob");
  EXPECT_EQ(bob.status, 200) << "another key is not limited: " << bob.body;
  const HttpResult anonymous = submit("");
  EXPECT_EQ(anonymous.status, 200) << anonymous.body;
  EXPECT_EQ(submit("").status, 429) << "no token is one anonymous key";
  ASSERT_EQ(http(port, "-X DELETE", "/v1/videos/" + alice.body_json["id"].get<std::string>()).status, 200);
  const HttpResult again = submit("alice");
  EXPECT_EQ(again.status, 200) << "a deleted job frees its key's slot: " << again.body;
  for (const HttpResult* r : {&bob, &anonymous, &again}) {
    if (r->status == 200) (void)http(port, "-X DELETE", "/v1/videos/" + r->body_json["id"].get<std::string>());
  }
  const std::string metrics = http(port, "", "/metrics").body;
  EXPECT_NE(metrics.find("frugal_video_jobs_rejected_total{reason=\"per_key_limit\"} 2"), std::string::npos);
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

TEST_F(VideoServing, AWebhookAnnouncesEachJobOnceSignedAndIsRetriedAfterA500) {
  testing::WebhookReceiver receiver;
  receiver.answer_next(500);  // the first delivery fails: retried after the first backoff (5 s)
  auto serve = serve_video(state_dir_, {"--video-webhook-url", receiver.url(), "--video-webhook-secret",
                                        testing::kWebhookSecret});
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();
  std::set<std::string> ids;
  for (const char* prompt : {"first", "second"}) {
    const HttpResult created = create_video(port, std::string("-F prompt=") + prompt);
    ASSERT_EQ(created.status, 200) << created.body;
    ids.insert(created.body_json["id"].get<std::string>());
    ASSERT_EQ(wait_until_done(port, created.body_json["id"])["status"], "completed");
  }
  const std::vector<testing::WebhookDelivery> got = receiver.wait_for(3, std::chrono::seconds(30));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // nothing more arrives
  ASSERT_EQ(receiver.deliveries().size(), 3u) << serve->log();
  std::map<std::string, std::vector<testing::WebhookDelivery>> per_video;
  for (const testing::WebhookDelivery& d : got) {
    EXPECT_TRUE(d.signature_ok) << d.signature;
    const json event = json::parse(d.body);
    EXPECT_EQ(event["type"], "video.completed");
    EXPECT_EQ(event["id"], d.id);
    per_video[event["data"]["id"]].push_back(d);
  }
  ASSERT_EQ(per_video.size(), 2u);
  for (const std::string& id : ids) ASSERT_EQ(per_video.count(id), 1u) << id;
  size_t retried = 0;
  for (const auto& [id, deliveries] : per_video) {
    if (deliveries.size() == 2) {
      ++retried;
      EXPECT_EQ(deliveries[0].id, deliveries[1].id) << "a retry keeps the webhook-id";
    } else {
      EXPECT_EQ(deliveries.size(), 1u) << id;
    }
  }
  EXPECT_EQ(retried, 1u);
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

}  // namespace
}  // namespace frugal
