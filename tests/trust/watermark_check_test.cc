// The watermark read-back post-check on real H.264 files: the job's own mark passes, an unmarked
// video and another job's mark hold the job, a small clip passes unchecked (said so), and a missing
// file is an error (which run_post_checks turns into a hold).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "media/mp4_writer.h"
#include "trust/watermark_check.h"
#include "trust/watermark_embed.h"
#include "watermark_test_util.h"

namespace frugal::trust {
namespace {

class WatermarkCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("frugal_wm_check_" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A finished clip as the worker hands it over: the MP4 (marked for `job_id` unless empty) and one
  // sampled frame (for its size).
  PostCheckInput clip(const std::string& name, int w, int h, const std::string& marked_for) {
    const int n = 9;
    std::vector<uint8_t> rgb = testing::natural_clip(w, h, n, 31);
    const std::string path = dir_ + "/" + name;
    auto writer = media::Mp4Writer::open(path, w, h);
    EXPECT_TRUE(writer.has_value());
    std::optional<WatermarkEmbedder> embedder;
    if (!marked_for.empty()) embedder.emplace(*WatermarkEmbedder::create(key_, watermark_payload_for(key_, marked_for), w, h));
    const size_t frame = static_cast<size_t>(w) * h * 3;
    for (int f = 0; f < n; ++f) {
      std::span<uint8_t> pixels(rgb.data() + f * frame, frame);
      if (embedder) embedder->embed_frame(pixels);
      EXPECT_TRUE(writer->write_frame(pixels).is_ok());
    }
    EXPECT_TRUE(writer->finish().is_ok());
    PostCheckInput input;
    input.job_id = "video_job_a";
    input.prompt = "a test clip";
    input.video_path = path;
    input.frames.push_back(SampledFrame{0, media::RgbImage{w, h, std::vector<uint8_t>(rgb.begin(), rgb.begin() + frame)}});
    return input;
  }

  WatermarkKey key_ = testing::test_key(9);
  std::string dir_;
};

TEST_F(WatermarkCheck, TheJobsOwnMarkPassesAndAnythingElseHoldsTheJob) {
  const WatermarkReadBackCheck check(key_);
  auto own = check.run(clip("own.mp4", 320, 256, "video_job_a"));
  ASSERT_TRUE(own.has_value()) << own.error().to_string();
  EXPECT_FALSE(own->hold) << own->detail;
  EXPECT_NE(own->detail.find("this job's payload"), std::string::npos) << own->detail;

  auto unmarked = check.run(clip("plain.mp4", 320, 256, ""));
  ASSERT_TRUE(unmarked.has_value());
  EXPECT_TRUE(unmarked->hold) << unmarked->detail;
  EXPECT_NE(unmarked->detail.find("not read back"), std::string::npos) << unmarked->detail;

  auto other = check.run(clip("other.mp4", 320, 256, "video_job_b"));
  ASSERT_TRUE(other.has_value());
  EXPECT_TRUE(other->hold) << other->detail;
  EXPECT_NE(other->detail.find("not this job's"), std::string::npos) << other->detail;
}

TEST_F(WatermarkCheck, SmallClipsPassUncheckedAndAMissingFileHolds) {
  const WatermarkReadBackCheck check(key_);
  auto small = check.run(clip("small.mp4", 64, 64, ""));
  ASSERT_TRUE(small.has_value());
  EXPECT_FALSE(small->hold);
  EXPECT_NE(small->detail.find("not checked"), std::string::npos) << small->detail;

  PostCheckInput gone = clip("gone.mp4", 320, 256, "video_job_a");
  std::filesystem::remove(gone.video_path);
  PostChecks checks;
  checks.push_back(std::make_unique<WatermarkReadBackCheck>(key_));
  const auto outcomes = run_post_checks(checks, gone);
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].hold) << outcomes[0].detail;
  EXPECT_TRUE(run_post_checks(checks, PostCheckInput{}).at(0).hold);  // no file, no frames: cannot run
}

}  // namespace
}  // namespace frugal::trust
