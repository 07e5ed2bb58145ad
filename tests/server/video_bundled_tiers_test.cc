// The bundled video models behind the API exactly as `make serve` (scripts/serve-demo) configures
// them: models/wan-shapes and models/wan-shapes-draft with data/video/tiers-wan-shapes-draft.json.
// Each tier runs on the model and step count its preset names, at the size the model was trained on
// (64x64, 17 frames = "1" second), and the API refuses anything larger with a 400 that says what it
// can make. The clips are tiny (a job is about a second), but three of them make this a _slow test.
#include <gtest/gtest.h>

#include "server/video_test_util.h"

namespace frugal {
namespace {

using namespace video_test;

const fs::path kBundledModels = kRepoRoot / "models";

class VideoBundledTiers : public VideoServerTest {};

TEST_F(VideoBundledTiers, EveryTierRunsOnItsBundledModelAtTheTrainedSizeAndLargerIsRefused_slow) {
  if (!fs::exists(kBundledModels / "wan-shapes-draft/config.json")) GTEST_SKIP() << "the bundled video models are missing";
  auto serve = std::make_unique<ServeProcess>(std::vector<std::string>{
      "--video-model", "wan-shapes=" + (kBundledModels / "wan-shapes").string(),
      "--video-model", "wan-shapes-draft=" + (kBundledModels / "wan-shapes-draft").string(),
      "--video-tiers", (kRepoRoot / "data/video/tiers-wan-shapes-draft.json").string(),
      "--video-state", state_dir_, "--price-per-hour", "3.6"});
  const int port = serve->wait_for_port();
  ASSERT_GT(port, 0) << serve->log();

  struct Expected {
    std::string tier, model;
    int steps;
  };
  const std::vector<Expected> tiers = {{"draft", "wan-shapes-draft", 2}, {"preview", "wan-shapes", 10}, {"final", "wan-shapes", 20}};
  std::vector<std::string> ids;
  for (const Expected& want : tiers) {
    const HttpResult created = create_video(
        port, "-F 'prompt=a red circle moving right on a black background' -F model=auto -F tier=" + want.tier);
    ASSERT_EQ(created.status, 200) << created.body;
    EXPECT_EQ(created.body_json["model"], want.model) << want.tier;
    EXPECT_EQ(created.body_json["steps"], want.steps) << want.tier;
    EXPECT_EQ(created.body_json["size"], "64x64") << want.tier;
    EXPECT_EQ(created.body_json["frames"], 17) << want.tier;
    EXPECT_EQ(created.body_json["seconds"], "1") << want.tier;
    ids.push_back(created.body_json["id"]);
  }
  for (size_t idx = 0; idx < ids.size(); ++idx) {
    const json done = wait_until_done(port, ids[idx]);
    EXPECT_EQ(done["status"], "completed") << done.dump() << "\n" << serve->log();
    EXPECT_GT(done.value("compute_seconds", 0.0), 0) << tiers[idx].tier;
    EXPECT_GT(done.value("cost_usd", 0.0), 0) << tiers[idx].tier;
  }
  const std::string mp4 = temp_path("bundled_final.mp4");
  const auto fetched = testing::run_command("curl -s -w '%{http_code}' -o '" + mp4 + "' 'http://127.0.0.1:" +
                                            std::to_string(port) + "/v1/videos/" + ids.back() + "/content'");
  EXPECT_EQ(fetched.output, "200");
  const auto probe = testing::run_command("ffprobe -v error -select_streams v:0 -count_frames -show_entries "
                                          "stream=width,height,nb_read_frames -of default=nw=1 '" + mp4 + "'");
  EXPECT_NE(probe.output.find("width=64\nheight=64\nnb_read_frames=17"), std::string::npos) << probe.output;

  // What the model cannot make is a 400 naming the field and the limit; the trained size is accepted.
  for (const auto& [args, param, limit] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"-F prompt=x -F size=128x128", "size", "64"},
           {"-F prompt=x -F size=832x480", "size", "64"},
           {"-F prompt=x -F seconds=2", "seconds", "17 frames"},
           {"-F prompt=x -F seconds=4", "seconds", "17 frames"}}) {
    const HttpResult refused = create_video(port, args);
    EXPECT_EQ(refused.status, 400) << args << ": " << refused.body;
    EXPECT_EQ(refused.body_json["error"]["param"], param) << args;
    EXPECT_NE(refused.body_json["error"].value("message", "").find(limit), std::string::npos) << refused.body;
  }
  const HttpResult trained = create_video(port, "-F prompt=x -F size=64x64 -F seconds=1 -F tier=draft");
  EXPECT_EQ(trained.status, 200) << trained.body;
  if (trained.status == 200) EXPECT_EQ(wait_until_done(port, trained.body_json["id"])["status"], "completed");
  EXPECT_EQ(serve->stop(), 0) << serve->log();
}

}  // namespace
}  // namespace frugal
