#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "media/image_decoder.h"
#include "trust/classifier_check.h"
#include "trust/pdq_check.h"

namespace frugal::trust {
namespace {

media::RgbImage load_png(const std::string& name) {
  std::ifstream file(std::string(FRUGAL_TEST_DATA_DIR) + "/pdq/" + name, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  const std::string bytes = text.str();
  return *media::decode_image({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

PostCheckInput input_of(std::vector<std::string> names) {
  PostCheckInput input;
  input.job_id = "video_test";
  input.prompt = "a cat";
  int64_t index = 0;
  for (const std::string& name : names) input.frames.push_back({index += 8, load_png(name)});
  return input;
}

TEST(PdqHashListCheck, HoldsOnlyWhenAFrameMatches) {
  const media::RgbImage mandelbrot = load_png("mandelbrot_320x240.png");
  auto pdq = pdq_hash_rgb(mandelbrot.pixels.data(), mandelbrot.width, mandelbrot.height, mandelbrot.pixels.size());
  ASSERT_TRUE(pdq);
  auto list = PdqHashList::parse(pdq->hash.to_hex() + " known-bad\n", "list");
  ASSERT_TRUE(list);
  PdqHashListCheck check(*list, PdqCheckOptions{});
  auto clean = check.run(input_of({"testsrc2_256x256.png", "life_131x97.png"}));
  ASSERT_TRUE(clean);
  EXPECT_FALSE(clean->hold) << clean->detail;
  auto flagged = check.run(input_of({"testsrc2_256x256.png", "mandelbrot_320x240.png"}));
  ASSERT_TRUE(flagged);
  EXPECT_TRUE(flagged->hold);
  EXPECT_NE(flagged->detail.find("frame 16"), std::string::npos) << flagged->detail;
  EXPECT_NE(flagged->detail.find("known-bad"), std::string::npos) << flagged->detail;
}

TEST(PdqHashListCheck, LowQualityFramesAreNotMatched) {
  media::RgbImage flat{64, 64, std::vector<uint8_t>(64 * 64 * 3, 128)};
  auto pdq = pdq_hash_rgb(flat.pixels.data(), 64, 64, flat.pixels.size());
  auto list = PdqHashList::parse(pdq->hash.to_hex() + "\n", "list");
  PdqHashListCheck check(*list, PdqCheckOptions{});
  PostCheckInput input;
  input.frames.push_back({0, flat});
  auto outcome = check.run(input);
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->hold) << outcome->detail;
  EXPECT_NE(outcome->detail.find("1 below quality"), std::string::npos) << outcome->detail;
}

TEST(ClassifierCommandCheck, ExitCodesDecide) {
  const PostCheckInput input = input_of({"life_131x97.png", "cellauto_200x300.png"});
  const std::chrono::milliseconds timeout(5000);
  // The command sees the frames as PNG files and the prompt in its environment.
  auto pass = ClassifierCommandCheck(
                  "sh -c 'test -f \"$1/frame_8.png\" && test -f \"$1/frame_16.png\" && echo \"ok: $FRUGAL_PROMPT\"' classify",
                  timeout)
                  .run(input);
  ASSERT_TRUE(pass) << pass.error().to_string();
  EXPECT_FALSE(pass->hold);
  EXPECT_EQ(pass->detail, "ok: a cat");
  auto flagged = ClassifierCommandCheck("sh -c 'echo nsfw 0.97; exit 1' classify", timeout).run(input);
  ASSERT_TRUE(flagged);
  EXPECT_TRUE(flagged->hold);
  EXPECT_EQ(flagged->detail, "nsfw 0.97");
  auto broken = ClassifierCommandCheck("sh -c 'exit 3' classify", timeout).run(input);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message().find("status 3"), std::string::npos);
  auto missing = ClassifierCommandCheck("/nonexistent/classifier", timeout).run(input);
  EXPECT_FALSE(missing);
}

TEST(ClassifierCommandCheck, HangingCommandIsKilledAtTheTimeout) {
  const auto start = std::chrono::steady_clock::now();
  auto hung = ClassifierCommandCheck("sh -c 'sleep 30' classify", std::chrono::milliseconds(300)).run(input_of({"life_131x97.png"}));
  ASSERT_FALSE(hung);
  EXPECT_NE(hung.error().message().find("did not finish"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(PostChecks, AnErrorHoldsTheJob) {
  PostChecks checks;
  checks.push_back(std::make_unique<ClassifierCommandCheck>("sh -c 'exit 2' classify", std::chrono::milliseconds(5000)));
  const auto outcomes = run_post_checks(checks, input_of({"life_131x97.png"}));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].hold);
  EXPECT_TRUE(any_hold(outcomes));
  EXPECT_NE(outcomes[0].detail.find("could not run"), std::string::npos);
}

}  // namespace
}  // namespace frugal::trust
