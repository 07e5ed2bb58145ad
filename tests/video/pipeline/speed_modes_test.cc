// The speed modes through the whole pipeline and the CLI: attention covering every tile gives the
// dense video bit for bit (with the unattended tiles dropped or pooled), the tile fraction (dense warm-up steps included) and the step cache's
// skipped passes are reported, a
// huge threshold computes exactly the first and last pass of each CFG branch, and bad settings are
// refused with a message naming them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

#include "common/subprocess.h"
#include "common/test_data.h"
#include "reference_model.h"
#include "video/pipeline/video_pipeline.h"

namespace frugal::video {
namespace {

std::unique_ptr<VideoPipeline> load(const std::string& tag) {
  auto files = resolve_video_model_files(frugal::testing::reference_model_dir(tag), {});
  EXPECT_TRUE(files) << files.error().to_string();
  VideoPipelineOptions options;
  options.num_threads = 2;
  auto pipeline = VideoPipeline::load(*files, options);
  EXPECT_TRUE(pipeline) << pipeline.error().to_string();
  return pipeline ? std::move(*pipeline) : nullptr;
}

VideoRequest small_request() {
  VideoRequest r;
  r.prompt_ids = {5, 6, 1};
  r.negative_ids = {7, 1};
  r.width = 64;  // latent 8 x 8, tokens 4 x 4 per frame
  r.height = 64;
  r.frames = 9;  // 3 latent frames: a 3 x 4 x 4 token grid
  r.steps = 6;
  r.sampler = SamplerKind::kEuler;
  r.cfg = 4.0f;
  r.seed = 11;
  return r;
}

struct Generated {
  VideoRunStats stats;
  std::vector<float> frames;  // decoded chunks, concatenated
};

Generated generate(VideoPipeline& p, const VideoRequest& r) {
  Generated run;
  VideoCallbacks cb;
  cb.on_frames = [&](const float* f, int64_t n) {
    run.frames.insert(run.frames.end(), f, f + 3 * n * r.width * r.height);
    return Status::ok();
  };
  auto stats = p.generate(r, cb);
  EXPECT_TRUE(stats) << stats.error().to_string();
  if (stats) run.stats = *stats;
  return run;
}

TEST(VideoSpeedModes, WholeGridAttentionIsTheDenseVideoAndSmallWindowsAreCounted) {
  auto p = load("speed_attn");
  ASSERT_NE(p, nullptr);
  VideoRequest r = small_request();
  const Generated dense = generate(*p, r);
  EXPECT_EQ(dense.stats.attention, "dense");
  EXPECT_EQ(dense.stats.attention_fraction, 1.0);
  EXPECT_EQ(dense.stats.dit_passes_skipped, 0);
  r.attention.mode = AttentionMode::kSlidingTile;
  r.attention.tile = {1, 2, 2};  // 3 x 2 x 2 tiles
  r.attention.window = {3, 2, 2};
  const Generated whole = generate(*p, r);
  ASSERT_EQ(whole.frames.size(), dense.frames.size());
  EXPECT_EQ(0, std::memcmp(whole.frames.data(), dense.frames.data(), dense.frames.size() * sizeof(float)));
  EXPECT_EQ(whole.stats.attention, "sliding-tile");
  r.attention.window = {1, 1, 1};
  const Generated local = generate(*p, r);
  EXPECT_DOUBLE_EQ(local.stats.attention_fraction, 1.0 / 12.0);
  r.attention_warmup = 0.5;  // the first 3 of 6 steps attend densely
  EXPECT_DOUBLE_EQ(generate(*p, r).stats.attention_fraction, (3 * 1.0 + 3 * (1.0 / 12.0)) / 6.0);
  r.attention_warmup = 0;
  r.attention.mode = AttentionMode::kBlockSparse;
  r.attention.keep = 0.5;
  const Generated sparse = generate(*p, r);
  EXPECT_DOUBLE_EQ(sparse.stats.attention_fraction, 0.5);
  EXPECT_EQ(sparse.stats.attention, "block-sparse");
  EXPECT_EQ(sparse.stats.attention_rest, "drop");
  EXPECT_EQ(sparse.stats.attention_pooled_fraction, 0.0);
  // rest = pooled: every tile kept is still the dense video; half kept pools the other half.
  r.attention.rest = AttentionRest::kPooled;
  r.attention.keep = 1.0;
  const Generated pooled_all = generate(*p, r);
  ASSERT_EQ(pooled_all.frames.size(), dense.frames.size());
  EXPECT_EQ(0, std::memcmp(pooled_all.frames.data(), dense.frames.data(), dense.frames.size() * sizeof(float)));
  r.attention.keep = 0.5;
  const Generated pooled = generate(*p, r);
  EXPECT_EQ(pooled.stats.attention_rest, "pooled");
  EXPECT_DOUBLE_EQ(pooled.stats.attention_fraction, 0.5);
  EXPECT_DOUBLE_EQ(pooled.stats.attention_pooled_fraction, 0.5);
  ASSERT_EQ(pooled.frames.size(), dense.frames.size());
  EXPECT_NE(0, std::memcmp(pooled.frames.data(), sparse.frames.data(), dense.frames.size() * sizeof(float)))
      << "the pooled rest changes the result";
}

TEST(VideoSpeedModes, StepCacheSkipsPassesAndAlwaysRunsTheFirstAndLast) {
  auto p = load("speed_cache");
  ASSERT_NE(p, nullptr);
  VideoRequest r = small_request();
  r.step_cache = 10.0;  // nothing moves that much: only the forced passes run
  const Generated cached = generate(*p, r);
  EXPECT_EQ(cached.stats.dit_passes, 2 * r.steps);
  EXPECT_EQ(cached.stats.dit_passes_skipped, 2 * r.steps - 4) << "first and last step of each CFG branch run";
  for (float v : cached.frames) ASSERT_TRUE(std::isfinite(v));
  r.step_cache = 0;
  EXPECT_EQ(generate(*p, r).stats.dit_passes_skipped, 0);
}

// Off is off: with no threshold the mode, cap and unconditional scale change nothing, bit for bit.
// Extrapolation first computes two passes per CFG branch, and the cap bounds the skips in a row.
TEST(VideoSpeedModes, StepCacheExtrapolationAndItsCapAndOffIsBitIdentical) {
  auto p = load("speed_extrapolate");
  ASSERT_NE(p, nullptr);
  VideoRequest r = small_request();
  const Generated plain = generate(*p, r);
  r.step_cache_mode = StepCacheMode::kExtrapolate;
  r.step_cache_max_skips = 1;
  r.step_cache_uncond = 3.0;
  r.step_cache_cond = 0.5;
  r.step_cache_uncond_max_skips = 4;
  r.step_cache_cfg_delta = true;
  r.step_cache_start = 0.2;
  r.step_cache_end = 0.8;
  r.step_cache_error_tol = 0.05;
  const Generated off = generate(*p, r);
  ASSERT_EQ(off.frames.size(), plain.frames.size());
  EXPECT_EQ(std::memcmp(off.frames.data(), plain.frames.data(), plain.frames.size() * sizeof(float)), 0);
  EXPECT_EQ(off.stats.dit_passes_skipped, 0);
  r.step_cache_cond = 1.0;
  r.step_cache_uncond = 1.0;
  r.step_cache_uncond_max_skips = -1;
  r.step_cache_cfg_delta = false;
  r.step_cache_start = 0.0;
  r.step_cache_end = 1.0;
  r.step_cache_error_tol = 0;
  r.step_cache = 10.0;
  r.step_cache_max_skips = 0;
  const Generated all = generate(*p, r);
  EXPECT_EQ(all.stats.dit_passes_skipped, 2 * (r.steps - 3)) << "first two and last step of each branch run";
  r.step_cache_max_skips = 1;  // 6 steps: run 0, 1, skip 2, run 3, skip 4, run 5 (last)
  const Generated capped = generate(*p, r);
  EXPECT_EQ(capped.stats.dit_passes_skipped, 2 * 2);
  for (float v : capped.frames) ASSERT_TRUE(std::isfinite(v));
  EXPECT_NE(std::memcmp(capped.frames.data(), plain.frames.data(), plain.frames.size() * sizeof(float)), 0);
  // Error control (off by default): a tolerance no real residual meets keeps only the skips made
  // before the curvature is measured (step 2: three computed calls first); a loose one changes nothing.
  EXPECT_EQ(VideoRequest{}.step_cache_error_tol, 0.0);
  r.step_cache_error_tol = 1e-12;
  EXPECT_EQ(generate(*p, r).stats.dit_passes_skipped, 2 * 1);
  r.step_cache_error_tol = 10.0;
  EXPECT_EQ(generate(*p, r).stats.dit_passes_skipped, capped.stats.dit_passes_skipped);
  r.step_cache_error_tol = 0;
  // The window: only steps [0.5 x 6, 6) = 3, 4 may skip (5 is the last): one pass per branch.
  r.step_cache_max_skips = 0;
  r.step_cache_start = 0.5;
  EXPECT_EQ(generate(*p, r).stats.dit_passes_skipped, 2 * 2);
  r.step_cache_end = 0.5;  // an empty window: the cache decides nothing, the run is the plain one
  const Generated empty = generate(*p, r);
  EXPECT_EQ(empty.stats.dit_passes_skipped, 0);
  EXPECT_EQ(std::memcmp(empty.frames.data(), plain.frames.data(), plain.frames.size() * sizeof(float)), 0);
  // The conditional branch never skipped, the unconditional one through the CFG difference: the
  // first two steps run (extrapolation history), then every unforced step skips the uncond pass.
  r.step_cache_start = 0.0;
  r.step_cache_end = 1.0;
  r.step_cache_cond = 0.0;
  r.step_cache_cfg_delta = true;
  const Generated delta = generate(*p, r);
  EXPECT_EQ(delta.stats.dit_passes_skipped, r.steps - 3);
  for (float v : delta.frames) ASSERT_TRUE(std::isfinite(v));
}

TEST(VideoSpeedModes, BadSettingsAreRefused) {
  auto p = load("speed_bad");
  ASSERT_NE(p, nullptr);
  VideoRequest r = small_request();
  r.step_cache = -0.1;
  EXPECT_NE(p->validate(r).message().find("step_cache"), std::string::npos);
  r.step_cache = 0;
  r.step_cache_max_skips = -1;
  EXPECT_NE(p->validate(r).message().find("step_cache_max_skips"), std::string::npos);
  r.step_cache_max_skips = 0;
  r.step_cache_uncond = -1;
  EXPECT_NE(p->validate(r).message().find("step_cache_uncond"), std::string::npos);
  r.step_cache_uncond = 1;
  r.step_cache_cond = 101;
  EXPECT_NE(p->validate(r).message().find("step_cache_cond"), std::string::npos);
  r.step_cache_cond = 1;
  r.step_cache_uncond_max_skips = -2;
  EXPECT_NE(p->validate(r).message().find("step_cache_uncond_max_skips"), std::string::npos);
  r.step_cache_uncond_max_skips = -1;
  r.step_cache_start = 0.7;
  r.step_cache_end = 0.6;
  EXPECT_NE(p->validate(r).message().find("step_cache_start"), std::string::npos);
  r.step_cache_start = 0;
  r.step_cache_end = 1;
  r.step_cache_error_tol = 11;
  EXPECT_NE(p->validate(r).message().find("step_cache_error_tol"), std::string::npos);
  r.step_cache_error_tol = 0;
  r.attention.keep = 0;
  EXPECT_NE(p->validate(r).message().find("attention"), std::string::npos);
  r.attention.keep = 0.5;
  r.attention_warmup = -1;
  EXPECT_NE(p->validate(r).message().find("attention_warmup"), std::string::npos);
  const std::string common = frugal::testing::frugal_binary() + " video -m " + frugal::testing::reference_model_dir("speed_cli") +
                             " --prompt-ids 5,6,1 --negative-ids 7,1 --steps 1 --frames 5 --size 32x32 -q -o /tmp/x.mp4 ";
  const std::pair<const char*, const char*> cases[] = {
      {"--attention sparse", "--attention"},
      {"--attention sliding-tile --attention-tile 4,4", "--attention-tile"},
      {"--attention sliding-tile --attention-window 0,3,3", "--attention-window"},
      {"--attention block-sparse --attention-keep 1.5", "keep"},
      {"--attention block-sparse --attention-rest mean", "--attention-rest"},
      {"--step-cache -1", "--step-cache"},
      {"--step-cache 0.1 --step-cache-mode taylor", "--step-cache-mode"},
      {"--step-cache 0.1 --step-cache-max-skips -2", "--step-cache-max-skips"},
      {"--step-cache 0.1 --step-cache-uncond -1", "--step-cache-uncond"},
      {"--step-cache 0.1 --step-cache-cond -1", "--step-cache-cond"},
      {"--step-cache 0.1 --step-cache-uncond-max-skips -3", "--step-cache-uncond-max-skips"},
      {"--step-cache 0.1 --step-cache-cfg both", "--step-cache-cfg"},
      {"--step-cache 0.1 --step-cache-start 0.9 --step-cache-end 0.2", "--step-cache-start"},
      {"--attention sliding-tile --attention-warmup 1.5", "--attention-warmup"},
  };
  for (const auto& [flags, needle] : cases) {
    auto run = frugal::testing::run_command(common + flags + " 2>&1");
    EXPECT_NE(run.exit_code, 0) << flags;
    EXPECT_LT(run.exit_code, 128) << flags << " crashed: " << run.output;
    EXPECT_NE(run.output.find(needle), std::string::npos) << flags << ": " << run.output;
  }
}

}  // namespace
}  // namespace frugal::video
