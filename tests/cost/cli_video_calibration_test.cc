// `frugal bench video` and `frugal plan video --hardware this-machine` end to end (issue 23, item 5),
// without timing bounds: bench writes a record with its method and one point per configuration,
// a second run merges into it, plan fits it and predicts, and bad input is a clear error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/subprocess.h"
#include "cost/video_calibration.h"

namespace frugal {
namespace {

using nlohmann::json;
using testing::frugal_binary;
using testing::run_command;

class CliVideoCalibration : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("frugal_cli_video_cal_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    auto r = run_command(frugal_binary() + " mkmodel --preset wan-tiny -o " + model() + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string model() const { return (dir_ / "wan-tiny").string(); }
  std::string record() const { return (dir_ / "video-calibration.json").string(); }
  testing::CommandResult bench(const std::string& flags) {
    return run_command(frugal_binary() + " bench video -m " + model() + " -t 1 -r 1 --steps 1 --video-calibration " +
                       record() + " " + flags + " 2>&1");
  }
  testing::CommandResult plan(const std::string& flags) {
    return run_command(frugal_binary() + " plan video --hardware this-machine --video-calibration " + record() + " " +
                       flags + " 2>&1");
  }

  std::filesystem::path dir_;
};

TEST_F(CliVideoCalibration, BenchRecordsPointsAndPlanPredictsFromThem) {
  auto r = bench("--sizes 16x16,32x32,48x48 --frames 1 --cfg off,on --decode-max-pixel-frames 1024");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("s/step"), std::string::npos) << r.output;
  auto rec = load_video_calibration(record());
  ASSERT_TRUE(rec.has_value()) << rec.error().to_string();
  ASSERT_EQ(rec->points.size(), 6u);
  EXPECT_NE(rec->method.find("interleaved"), std::string::npos);
  int decoded = 0;
  for (const auto& p : rec->points) {
    EXPECT_EQ(p.model, "wan-tiny");
    EXPECT_EQ(p.dim, 64);
    EXPECT_EQ(p.threads, 1);
    EXPECT_GT(p.seconds_per_step, 0);
    decoded += p.decoded ? 1 : 0;
    EXPECT_EQ(p.decoded, p.width * p.height <= 1024) << p.width;
    EXPECT_EQ(p.decoded, p.vae_decode_seconds > 0);
  }
  EXPECT_EQ(decoded, 4);  // 16x16 and 32x32, CFG on and off

  // A second run of one configuration replaces its point; the others stay.
  r = bench("--sizes 16x16 --frames 1 --cfg off");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 point(s) (6 in the record)"), std::string::npos) << r.output;

  r = plan("-m " + model() + " --resolution 64x64 --frames 5 --steps 3 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json j = json::parse(r.output);
  EXPECT_TRUE(j["calibrated"].get<bool>());
  EXPECT_EQ(j["threads"].get<int>(), 1);
  EXPECT_EQ(j["tokens"].get<int64_t>(), 2 * 4 * 4);
  EXPECT_EQ(j["dit_passes_per_step"].get<int>(), 2);
  const double step = j["seconds_per_step"].get<double>();
  EXPECT_GT(step, 0);
  EXPECT_NEAR(j["seconds"].get<double>(),
              j["text_encoder_seconds"].get<double>() + 3 * step + j["vae_seconds"].get<double>(), 1e-9);
  EXPECT_EQ(j["calibration"]["step_points"].get<int>(), 6);
  EXPECT_TRUE(j["usd_per_video"].is_null());

  r = plan("-m " + model() + " --resolution 64x64 --frames 5 --steps 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("calibrated on this machine"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("GFLOP/s"), std::string::npos) << r.output;
}

TEST_F(CliVideoCalibration, BadInputIsAClearError) {
  auto r = bench("--sizes 16x16 --frames 4");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("4n+1"), std::string::npos) << r.output;
  r = bench("--sizes 16x16 --frames 1 --cfg maybe");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("on or off"), std::string::npos) << r.output;
  r = bench("--sizes 20x20 --frames 1");
  EXPECT_NE(r.exit_code, 0);
  r = run_command(frugal_binary() + " bench video -m " + (dir_ / "missing").string() + " 2>&1");
  EXPECT_NE(r.exit_code, 0);

  // No record yet.
  r = plan("-m " + model() + " --resolution 64x64 --frames 5");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("frugal bench video"), std::string::npos) << r.output;
  // A named published shape is not a model frugal measured.
  r = plan("-m wan2.1-t2v-1.3b --resolution 64x64 --frames 5");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("model folder"), std::string::npos) << r.output;

  // Too few token counts to fit.
  ASSERT_EQ(bench("--sizes 16x16,32x32 --frames 1 --cfg off").exit_code, 0);
  r = plan("-m " + model() + " --resolution 64x64 --frames 5");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find(">= 3 different token counts"), std::string::npos) << r.output;
  // A thread count the record does not hold.
  r = plan("-m " + model() + " --resolution 64x64 --frames 5 --threads 3");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("not 3"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace frugal
