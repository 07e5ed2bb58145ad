// The bundled text-to-video models (models/wan-shapes and models/wan-shapes-draft, trained by
// tools/train_video, issue #19) end to end through `frugal video` and `frugal video-eval`: a clip
// from the README's command has the model's own defaults (64x64, 17 frames), and the evaluator
// judges clips of held-out captions (combinations never seen in training). The shipped weights are
// interim (models/wan-shapes/README.md): background and colour are learnt, shape and direction are
// not yet (issue #19's bars of 80 % / 90 % are NOT met and not asserted here). What is asserted is
// what the card measures, with margin: the right background on every clip and the object's colour
// well above chance (12.5 %), so a broken export, loader or sampler fails. Every clip is
// deterministic (fixed seeds and thread count), so the test cannot flake.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "common/subprocess.h"
#include "common/test_data.h"

namespace frugal {
namespace {

namespace fs = std::filesystem;
using testing::frugal_binary;
using testing::run_command;

const fs::path kModels = fs::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path() / "models";

std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("frugal_bundled_video_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// Eight held-out combinations (models/wan-shapes/heldout.json), spread over colours, shapes,
// directions and backgrounds.
std::string write_heldout_prompts(const std::string& dir) {
  std::ifstream in(kModels / "wan-shapes" / "heldout.json");
  const auto held = nlohmann::json::parse(in, nullptr, false);
  EXPECT_TRUE(held.is_object()) << "models/wan-shapes/heldout.json";
  const auto& prompts = held["heldout_prompts"];
  std::ofstream out(dir + "/prompts.txt");
  const size_t n = prompts.size();
  for (size_t i = 0; i < 8 && n > 0; ++i) out << prompts[i * n / 8].get<std::string>() << "\n";
  return dir + "/prompts.txt";
}

nlohmann::json evaluate(const std::string& model, const std::string& prompts, const std::string& seeds) {
  const auto r = run_command(frugal_binary() + " video-eval -m " + model + " --prompts " + prompts + " --seeds " + seeds +
                             " -t 2 --json 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return nlohmann::json::parse(r.output, nullptr, false);
}

TEST(BundledVideoModel, TheReadmeCommandMakesA64x64ClipOf17FramesOfARedObjectOnBlack_slow) {
  ASSERT_TRUE(fs::exists(kModels / "wan-shapes" / "config.json")) << "models/wan-shapes is part of the repository";
  const std::string dir = temp_dir("readme");
  auto r = run_command("cd " + dir + " && " + frugal_binary() + " video -m " + (kModels / "wan-shapes").string() +
                       " -p 'a red circle moving right on a black background' -o clip.mp4 -q 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command("ffprobe -v error -count_frames -show_entries stream=codec_name,width,height,nb_read_frames "
                  "-of default=nw=1 " + dir + "/clip.mp4");
  EXPECT_NE(r.output.find("codec_name=h264"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("width=64"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("nb_read_frames=17"), std::string::npos) << r.output;
  r = run_command(frugal_binary() + " video-eval --clip " + dir + "/clip.mp4 --caption "
                  "'a red circle moving right on a black background' --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto judged = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_TRUE(judged.is_object()) << r.output;
  EXPECT_EQ(judged["verdict"]["background"], "black") << r.output;
  EXPECT_EQ(judged["verdict"]["colour"], "red") << r.output;
  EXPECT_TRUE(judged["verdict"]["object_found"].get<bool>()) << r.output;
  fs::remove_all(dir);
}

TEST(BundledVideoModel, HeldOutCaptionsGetTheirBackgroundAndColourAtTheFinalAndDraftTiers_slow) {
  ASSERT_TRUE(fs::exists(kModels / "wan-shapes-draft" / "config.json")) << "models/wan-shapes-draft is part of the repository";
  const std::string dir = temp_dir("heldout");
  const std::string prompts = write_heldout_prompts(dir);
  for (const char* model : {"wan-shapes", "wan-shapes-draft"}) {
    const auto report = evaluate((kModels / model).string(), prompts, "1,2");
    ASSERT_TRUE(report.is_object()) << model;
    EXPECT_EQ(report["clips"], 16) << model;
    const auto& a = report["accuracy"];
    // Measured (model card): final 100 % background / 50 % colour on these 16 clips, draft 100 % / 31 %.
    EXPECT_GE(a["background"].get<double>(), 0.9) << model << ": " << report.dump();
    EXPECT_GE(a["colour"].get<double>(), 0.25) << model << ": " << report.dump();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace frugal
