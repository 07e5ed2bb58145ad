// Video DiT model: Wan2.1 token counts, FLOP terms, multipliers and sequence parallelism.
#include <gtest/gtest.h>

#include "cost/video_model.h"
#include "cost_test_util.h"

namespace frugal {
namespace {

VideoRequest request(int64_t w, int64_t h, int64_t frames) {
  VideoRequest r;
  r.width = w;
  r.height = h;
  r.frames = frames;
  return r;
}

TEST(VideoModel, TokenCountsMatchWan21) {
  const DitConfig dit = *find_dit_config("wan2.1-t2v-14b");
  // 832x480x81: latent 21 x 60 x 104 -> 21 x 30 x 52 = 32,760 tokens (Wan2.1's seq_len for 480p).
  const VideoTokens t480 = video_tokens(dit, request(832, 480, 81));
  EXPECT_EQ(t480.latent_frames, 21);
  EXPECT_EQ(t480.latent_height, 60);
  EXPECT_EQ(t480.latent_width, 104);
  EXPECT_EQ(t480.tokens, 32760);
  // 1280x720x81: 21 x 45 x 80 = 75,600 tokens (Wan2.1's 720p seq_len).
  EXPECT_EQ(video_tokens(dit, request(1280, 720, 81)).tokens, 75600);
  EXPECT_EQ(frames_for_seconds(5), 81);
}

TEST(VideoModel, ParamsAndFlopsFollowTheFormulas) {
  const DitConfig small = *find_dit_config("wan2.1-t2v-1.3b");
  const DitConfig big = *find_dit_config("wan2.1-t2v-14b");
  EXPECT_NEAR(small.params() / 1e9, 1.39, 0.05);  // published: 1.3B
  EXPECT_NEAR(big.params() / 1e9, 14.05, 0.2);    // published: 14B
  auto p = plan_video(big, request(832, 480, 81), testing::hardware("h100-sxm"), 3.0);
  ASSERT_TRUE(p.has_value());
  const double n = 32760;
  EXPECT_NEAR(p->linear_flops_per_pass, 2 * big.params() * n, 1e6);
  EXPECT_NEAR(p->attention_flops_per_pass, 4.0 * 40 * n * n * 5120 + 4.0 * 40 * n * 512 * 5120, 1e9);
  EXPECT_NEAR(p->dit_flops_total, (p->linear_flops_per_pass + p->attention_flops_per_pass) * 2 * 50, 1e12);
  EXPECT_NEAR(p->usd_per_video, 3.0 * p->gpu_seconds / 3600, 1e-12);
}

TEST(VideoModel, MultipliersAndSequenceParallelism) {
  const DitConfig dit = *find_dit_config("wan2.1-t2v-14b");
  const Accelerator h100 = testing::hardware("h100-sxm");
  VideoRequest base = request(1280, 720, 81);
  const VideoPlan p1 = *plan_video(dit, base, h100, 3.0);
  VideoRequest fast = base;
  fast.steps = 25;
  fast.step_cache_speedup = 2.0;
  fast.attention_density = 0.5;
  const VideoPlan pf = *plan_video(dit, fast, h100, 3.0);
  EXPECT_LT(pf.dit_seconds, p1.dit_seconds / 4);
  VideoRequest eight = base;
  eight.gpus = 8;
  const VideoPlan p8 = *plan_video(dit, eight, h100, 3.0);
  EXPECT_LT(p8.seconds, p1.seconds);         // latency down
  EXPECT_GT(p8.gpu_seconds, p1.gpu_seconds); // GPU-seconds (and dollars) up: efficiency < 1
  EXPECT_GT(p8.usd_per_video, p1.usd_per_video);
  VideoRequest bad = base;
  bad.attention_density = 0;
  EXPECT_FALSE(plan_video(dit, bad, h100, 3.0).has_value());
}

}  // namespace
}  // namespace frugal
