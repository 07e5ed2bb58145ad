// `frugal video-eval` end to end: judging one MP4 against a caption (text and JSON), clear errors
// for bad input, and the generation mode over a prompt list with the tiny random Wan model (its
// clips are noise, so only the report's shape is checked, not its accuracy).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "common/subprocess.h"
#include "media/mp4_writer.h"

namespace frugal {
namespace {

namespace fs = std::filesystem;
using testing::frugal_binary;
using testing::run_command;

std::string temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("frugal_video_eval_cli_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// A red 12x12 square on black moving right 2 px a frame, 64x64, 17 frames, through H.264. Drawn
// here rather than with src/video/eval's renderer, which this test binary does not link.
std::string write_red_square_clip(const std::string& dir) {
  const std::string path = dir + "/square.mp4";
  media::Mp4Options options;
  options.fps = {16, 1};
  auto writer = media::Mp4Writer::open(path, 64, 64, options);
  EXPECT_TRUE(writer.has_value()) << writer.error().to_string();
  std::vector<uint8_t> frame(64 * 64 * 3);
  for (int f = 0; f < 17; ++f) {
    std::fill(frame.begin(), frame.end(), 0);
    for (int row = 26; row < 38; ++row) {
      for (int col = 8 + 2 * f; col < 20 + 2 * f; ++col) frame[(row * 64 + col) * 3] = 255;
    }
    EXPECT_TRUE(writer->write_frame(frame).is_ok());
  }
  EXPECT_TRUE(writer->finish().is_ok());
  return path;
}

// The last line of the output that parses as a JSON object.
nlohmann::json last_json(const std::string& output) {
  size_t end = output.size();
  while (end > 0) {
    const size_t start = output.rfind('\n', end - 1);
    const size_t begin = start == std::string::npos ? 0 : start + 1;
    const std::string line = output.substr(begin, end - begin);
    if (!line.empty() && line.front() == '{') return nlohmann::json::parse(line, nullptr, false);
    if (start == std::string::npos) break;
    end = start;
  }
  return nlohmann::json();
}

TEST(VideoEvalCli, JudgesAnMp4AgainstItsCaption) {
  const std::string dir = temp_dir("clip");
  const std::string clip = write_red_square_clip(dir);
  auto r = run_command(frugal_binary() + " video-eval --clip " + clip +
                       " --caption 'a red square moving right on a black background' 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::printf("%s", r.output.c_str());
  EXPECT_NE(r.output.find("judged:     a red square moving right on a black background"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("all four:   ok"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("WRONG"), std::string::npos) << r.output;

  // A wrong caption: shape and direction are flagged, colour and background are not.
  r = run_command(frugal_binary() + " video-eval --clip " + clip +
                  " --caption 'a red circle moving left on a black background' 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("all four:   WRONG"), std::string::npos) << r.output;

  r = run_command(frugal_binary() + " video-eval --json --clip " + clip +
                  " --caption 'a red square moving right on a black background'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = last_json(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_EQ(j["frames"], 17);
  EXPECT_EQ(j["verdict"]["colour"], "red");
  EXPECT_EQ(j["verdict"]["shape"], "square");
  EXPECT_EQ(j["verdict"]["direction"], "right");
  EXPECT_EQ(j["verdict"]["background"], "black");
  EXPECT_NEAR(j["verdict"]["displacement_px"][0].get<double>(), 32.0, 1.5);
  EXPECT_GT(j["verdict"]["fill_ratio"].get<double>(), 0.9);
  EXPECT_EQ(j["correct"]["all"], true);

  // Without a caption: the verdict only.
  r = run_command(frugal_binary() + " video-eval --clip " + clip + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("judged:     a red square"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("all four"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

TEST(VideoEvalCli, BadInputExitsWithAClearMessage) {
  const std::string dir = temp_dir("bad");
  const std::string clip = write_red_square_clip(dir);
  const std::pair<std::string, std::string> cases[] = {
      {"--clip " + clip + " --caption 'a pink square moving right on a black background'", "unknown colour \"pink\""},
      {"--clip " + clip + " --caption 'a white square moving right on a white background'", "same as the background"},
      {"--clip /nonexistent/clip.mp4", "/nonexistent/clip.mp4"},
      {"", "give either --clip"},
      {"--clip " + clip + " --prompts x.txt", "give either --clip"},
      {"--prompts " + dir + "/none.txt", "needs both"},
  };
  for (const auto& [flags, needle] : cases) {
    auto r = run_command(frugal_binary() + " video-eval " + flags + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << flags;
    EXPECT_NE(r.output.find(needle), std::string::npos) << flags << "\n" << r.output;
  }
  fs::remove_all(dir);
}

TEST(VideoEvalCli, GenerationModeReportsAccuracyPerAttribute) {
  const std::string dir = temp_dir("gen");
  auto r = run_command(frugal_binary() + " mkmodel --preset wan-tiny -o " + dir + "/model 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  {
    std::ofstream prompts(dir + "/prompts.txt");
    prompts << "# two captions\n"
            << "a red circle moving right on a black background\n\n"
            << "a cyan triangle moving up on a gray background\n";
  }
  const std::string common = " video-eval -m " + dir + "/model --prompts " + dir +
                             "/prompts.txt --seeds 1,2 --steps 2 --size 32x32 --frames 5 -t 2";
  r = run_command(frugal_binary() + common + " --json --save-dir " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = last_json(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_EQ(j["clips"], 4);
  for (const char* key : {"colour", "background", "shape", "direction", "all"}) {
    const double a = j["accuracy"][key].get<double>();
    EXPECT_GE(a, 0.0) << key;
    EXPECT_LE(a, 1.0) << key;
  }
  EXPECT_GT(j["seconds_per_clip"].get<double>(), 0.0);
  ASSERT_EQ(j["results"].size(), 4u);
  EXPECT_EQ(j["results"][0]["prompt"], "a red circle moving right on a black background");
  EXPECT_EQ(j["results"][1]["seed"], 2);
  EXPECT_TRUE(j["results"][3]["verdict"].contains("background"));
  EXPECT_TRUE(fs::exists(dir + "/a_cyan_triangle_moving_up_on_a_gray_background_seed2.mp4"));

  r = run_command(frugal_binary() + common + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::printf("%s", r.output.c_str());
  for (const char* row : {"colour ", "background ", "shape ", "direction ", "all four ", "s per clip"}) {
    EXPECT_NE(r.output.find(row), std::string::npos) << row << "\n" << r.output;
  }

  // A bad line in the prompts file is named with its line number.
  {
    std::ofstream prompts(dir + "/bad.txt");
    prompts << "a red circle moving right on a black background\na red blob moving right on a black background\n";
  }
  r = run_command(frugal_binary() + " video-eval -m " + dir + "/model --prompts " + dir + "/bad.txt 2>&1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("bad.txt:2: unknown shape \"blob\""), std::string::npos) << r.output;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace frugal
