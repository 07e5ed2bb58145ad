// `frugal bench` calibration records end to end (issue #26): a second run is merged into the
// record (never a silent overwrite), another machine's record is kept aside, and
// `plan --hardware this-machine` refuses to extrapolate a tiny model's record to an 8B model.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/subprocess.h"
#include "common/test_data.h"
#include "cost/calibration.h"

namespace frugal {
namespace {

using testing::frugal_binary;
using testing::run_command;

class CliCalibration : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("frugal_cli_calibration_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path() const { return (dir_ / "calibration.json").string(); }
  testing::CommandResult bench(const std::string& n_gen) {
    return run_command(frugal_binary() + " bench -m " + testing::data_path("models/tiny-f16.gguf") +
                       " -t 1 -p 16 -n " + n_gen + " -r 1 --membw-mib 8 --calibration " + path() + " 2>&1");
  }

  std::filesystem::path dir_;
};

TEST_F(CliCalibration, SecondRunIsMergedAndSaysSo) {
  auto r = bench("8");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto first = load_calibration(path());
  ASSERT_TRUE(first.has_value()) << first.error().to_string();
  ASSERT_EQ(first->points.size(), 2u);  // pp16 and tg8
  EXPECT_GT(first->points[0].model_weight_bytes, 0);
  EXPECT_EQ(first->points[0].model_name, "tiny-f16.gguf");

  r = bench("8,16");  // tg8 again (replaces), tg16 new
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 new points, 2 replaced"), std::string::npos) << r.output;
  auto second = load_calibration(path());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->points.size(), 3u);
  EXPECT_EQ(second->history.size(), 2u);

  // Another machine's record is moved aside, not merged and not lost.
  second->machine_id = "another-box";
  ASSERT_TRUE(save_calibration(*second, path()).is_ok());
  r = bench("8");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("measured on another machine (another-box"), std::string::npos) << r.output;
  size_t backups = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    backups += entry.path().extension() == ".bak" ? 1 : 0;
  }
  EXPECT_EQ(backups, 1u);
  EXPECT_EQ(load_calibration(path())->points.size(), 2u);
}

TEST_F(CliCalibration, ThisMachineRefusesToExtrapolateFromATinyModel) {
  ASSERT_EQ(bench("8").exit_code, 0);
  auto r = run_command(frugal_binary() + " plan llm --model llama-3-8b --weights f16 --hardware this-machine "
                                         "--calibration " + path() + " 2>&1");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("cannot predict llama-3-8b"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tiny-f16.gguf (f16"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("frugal bench -m"), std::string::npos) << r.output;
  // The model it was measured on is predicted from it.
  r = run_command(frugal_binary() + " plan llm --model " + testing::data_path("models/tiny-f16.gguf") +
                  " --hardware this-machine --context 64 --calibration " + path() + " --json 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"calibrated\": true"), std::string::npos) << r.output;
  // --mbu/--mfu replace the record's points: a roofline estimate, no refusal.
  r = run_command(frugal_binary() + " plan llm --model llama-3-8b --weights f16 --hardware this-machine --mbu 0.6 "
                                    "--calibration " + path() + " --json 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

}  // namespace
}  // namespace frugal
