// A bounded end-to-end check of the step cache on the bundled model (models/wan-shapes, the only
// trained weights in the repository): at 30 steps with the model's own sampler settings
// (generation_config.json: Euler, shift 3, CFG 4, 64x64, 17 frames), extrapolation with at most one
// skipped pass in a row runs at most 1/1.8 of the DiT passes and keeps the decoded frames above a
// 30 dB PSNR floor against the uncached run of the same seed, on two held-out prompts; and it beats
// reusing the residual as is (the same schedule) by a clear margin. The floor is not met on every
// held-out prompt (docs/PERFORMANCE.md, "Video speed modes", gives the worst case); these two
// measured 44.8 and 40.3 dB in the sweep, so a broken cache fails here, not a chaotic prompt. The
// staggered schedule (--step-cache-stagger) was chosen on the 24 clips of 12 other spread prompts
// x seeds 7, 8 (these two prompts are not among them) and must also hold 1.8x and 30 dB here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/test_data.h"
#include "video/pipeline/video_pipeline.h"

namespace frugal::video {
namespace {

namespace fs = std::filesystem;

std::vector<float> run(VideoPipeline& p, const VideoRequest& r, VideoRunStats* stats) {
  std::vector<float> frames;
  VideoCallbacks cb;
  cb.on_frames = [&](const float* f, int64_t n) {
    frames.insert(frames.end(), f, f + 3 * n * r.width * r.height);
    return Status::ok();
  };
  auto s = p.generate(r, cb);
  EXPECT_TRUE(s) << s.error().to_string();
  if (s) *stats = *s;
  return frames;
}

// PSNR over RGB in 8-bit levels of frames in [-1, 1] (clamped), as scripts/video-quality-sweep.
double psnr(const std::vector<float>& a, const std::vector<float>& b) {
  double se = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = (std::clamp(a[i], -1.0f, 1.0f) - std::clamp(b[i], -1.0f, 1.0f)) * 127.5;
    se += d * d;
  }
  const double mse = se / static_cast<double>(a.size());
  return mse == 0 ? INFINITY : 10 * std::log10(255.0 * 255.0 / mse);
}

TEST(StepCacheQuality, ExtrapolationSavesOver1_8xOfThePassesAbove30dBOnTheBundledModel_slow) {
  const fs::path model = fs::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path() / "models" / "wan-shapes";
  ASSERT_TRUE(fs::exists(model / "config.json")) << "models/wan-shapes is part of the repository";
  auto files = resolve_video_model_files(model.string(), {});
  ASSERT_TRUE(files) << files.error().to_string();
  VideoPipelineOptions options;
  options.num_threads = 1;  // as the sweep measured
  auto pipeline = VideoPipeline::load(*files, options);
  ASSERT_TRUE(pipeline) << pipeline.error().to_string();
  VideoRequest r;
  r.width = r.height = 64;
  r.frames = 17;
  r.steps = 30;
  r.sampler = SamplerKind::kEuler;
  r.shift = 3.0f;
  r.cfg = 4.0f;
  r.seed = 7;
  for (const char* prompt : {"a green circle moving up on a gray background", "a orange circle moving right on a gray background"}) {
    r.prompt = prompt;
    r.step_cache = 0;
    VideoRunStats dense_stats, stats;
    const auto dense = run(**pipeline, r, &dense_stats);
    r.step_cache = 1.0;  // every pass the cap allows is skipped
    r.step_cache_max_skips = 1;
    r.step_cache_mode = StepCacheMode::kExtrapolate;
    const auto cached = run(**pipeline, r, &stats);
    ASSERT_EQ(cached.size(), dense.size());
    const int passes_run = stats.dit_passes - stats.dit_passes_skipped;
    EXPECT_EQ(stats.dit_passes, dense_stats.dit_passes);
    EXPECT_GE(static_cast<double>(stats.dit_passes) / passes_run, 1.8) << prompt << ": " << passes_run << " run";
    const double extrapolated = psnr(cached, dense);
    EXPECT_GE(extrapolated, 30.0) << prompt;
    // Staggered (the unconditional branch skips on the steps between the conditional one's skips):
    // the same 1.8x budget, chosen on other prompts' clips (PERFORMANCE.md), at least as good here.
    r.step_cache_stagger = true;
    VideoRunStats staggered_stats;
    const double staggered = psnr(run(**pipeline, r, &staggered_stats), dense);
    EXPECT_GE(static_cast<double>(staggered_stats.dit_passes) / (staggered_stats.dit_passes - staggered_stats.dit_passes_skipped), 1.8)
        << prompt;
    EXPECT_GE(staggered, 30.0) << prompt;
    r.step_cache_stagger = false;
    r.step_cache_mode = StepCacheMode::kReuse;
    const double reused = psnr(run(**pipeline, r, &stats), dense);
    EXPECT_GT(extrapolated, reused + 3.0) << prompt << ": extrapolation should beat reuse on the same schedule";
    std::printf("  %s: %d/%d passes, PSNR extrapolate %.2f dB, staggered %.2f dB, reuse %.2f dB\n", prompt, passes_run,
                stats.dit_passes, extrapolated, staggered, reused);
    r.step_cache_max_skips = 0;
  }
}

}  // namespace
}  // namespace frugal::video
