// Wan2.2's two-expert models (high_noise_model/ + low_noise_model/): the high-noise DiT runs while
// t >= boundary·1000, the low-noise DiT after, in the same pipeline code.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <optional>

#include "common/test_data.h"
#include "reference_model.h"
#include "safetensors/safetensors_writer.h"
#include "video/pipeline/video_pipeline.h"

namespace frugal::video {
namespace {

namespace fs = std::filesystem;
using testing::data_path;

// dit_a with its output head scaled: a different model of the same shape.
void write_perturbed_dit(const std::string& path) {
  auto store = WeightStore::open({data_path("wan/dit_a/diffusion_pytorch_model.safetensors")});
  ASSERT_TRUE(store);
  SafetensorsWriter writer;
  for (const std::string& name : store->names()) {
    auto shape = *store->shape(name);
    auto values = *store->load_f32(name, shape);
    if (name == "head.head.weight") {
      for (float& v : values) v *= 1.5f;
    }
    writer.add_f32(name, shape, values);
  }
  ASSERT_TRUE(writer.write(path));
}

std::string two_expert_dir(bool same_experts) {
  const fs::path dir = testing::reference_model_dir(same_experts ? "experts_same" : "experts_diff");
  for (const char* expert : {"high_noise_model", "low_noise_model"}) {
    fs::create_directories(dir / expert);
    std::error_code ec;
    fs::remove(dir / expert / "config.json", ec);
    fs::remove(dir / expert / "diffusion_pytorch_model.safetensors", ec);
    fs::create_symlink(data_path("wan/dit_a/config.json"), dir / expert / "config.json");
  }
  fs::create_symlink(data_path("wan/dit_a/diffusion_pytorch_model.safetensors"),
                     dir / "high_noise_model" / "diffusion_pytorch_model.safetensors");
  if (same_experts) {
    fs::create_symlink(data_path("wan/dit_a/diffusion_pytorch_model.safetensors"),
                       dir / "low_noise_model" / "diffusion_pytorch_model.safetensors");
  } else {
    write_perturbed_dit((dir / "low_noise_model" / "diffusion_pytorch_model.safetensors").string());
  }
  return dir.string();
}

struct ExpertRun {
  std::vector<std::vector<float>> latents;  // before every step, then the final one
  int dit_passes = 0;
};

// A small request with e2e_a's schedule (UniPC, 10 steps: t = 999 978 952 920 882 833 ...) and the
// given guidance; seeded noise, 32x32, 5 frames (the expert switch depends only on the timesteps).
ExpertRun run_guided(const std::string& dir, float boundary, float cfg, std::optional<float> cfg_high_noise) {
  auto files = resolve_video_model_files(dir, {});
  EXPECT_TRUE(files) << files.error().to_string();
  auto pipeline = VideoPipeline::load(*files, VideoPipelineOptions{2, WeightPrecision::kF32});
  EXPECT_TRUE(pipeline) << pipeline.error().to_string();
  VideoRequest r;
  r.prompt_ids = {5, 9, 1};
  r.negative_ids = {7, 1};
  r.steps = 10;
  r.width = 32;
  r.height = 32;
  r.frames = 5;
  r.seed = 11;
  r.expert_boundary = boundary;
  r.cfg = cfg;
  r.cfg_high_noise = cfg_high_noise;
  ExpertRun run;
  VideoCallbacks cb;
  cb.on_latent = [&](int, const float* x, int64_t n) { run.latents.emplace_back(x, x + n); };
  auto stats = (*pipeline)->generate(r, cb);
  EXPECT_TRUE(stats) << stats.error().to_string();
  if (stats) run.dit_passes = stats->dit_passes;
  return run;
}

// Every step's latent of the e2e_a request (UniPC, 10 steps: t = 999 978 952 920 882 833 ...).
std::vector<std::vector<float>> run_latents(const std::string& dir, float boundary, int n_experts) {
  auto files = resolve_video_model_files(dir, {});
  EXPECT_TRUE(files) << files.error().to_string();
  auto pipeline = VideoPipeline::load(*files, VideoPipelineOptions{2, WeightPrecision::kF32});
  EXPECT_TRUE(pipeline) << pipeline.error().to_string();
  VideoRequest r;
  r.prompt_ids = {5, 9, 1};
  r.negative_ids = {7, 1};
  r.width = 96;
  r.height = 64;
  r.frames = 9;
  r.steps = 10;
  r.noise = testing::read_f32_file(data_path("wan/e2e_a/noise.f32"));
  r.expert_boundary = boundary;
  std::vector<std::vector<float>> latents;
  VideoCallbacks cb;
  cb.on_latent = [&](int, const float* x, int64_t n) { latents.emplace_back(x, x + n); };
  auto stats = (*pipeline)->generate(r, cb);
  EXPECT_TRUE(stats) << stats.error().to_string();
  EXPECT_EQ((*pipeline)->info().n_experts, n_experts);
  return latents;
}

TEST(TwoExperts, TheHighNoiseExpertRunsAboveTheBoundary) {
  const auto single = run_latents(testing::reference_model_dir("experts_single"), 0.9f, 1);
  const auto same = run_latents(two_expert_dir(true), 0.9f, 2);
  ASSERT_EQ(single.size(), 11u);
  EXPECT_EQ(same, single);  // two copies of one DiT are that DiT
  const auto diff = run_latents(two_expert_dir(false), 0.9f, 2);
  ASSERT_EQ(diff.size(), 11u);
  // t >= 900 for steps 0..3: their outputs come from the high-noise expert (= dit_a), so the latents
  // before steps 0..4 are the single model's; from step 4 (t = 882) the low-noise expert differs.
  for (size_t i = 0; i <= 4; ++i) EXPECT_EQ(diff[i], single[i]) << "latent before step " << i;
  for (size_t i = 5; i < 11; ++i) EXPECT_NE(diff[i], single[i]) << "latent before step " << i;
}

// Wan2.2 A14B guides each expert with its own scale (sample_guide_scale (3.0, 4.0): low, high noise).
// With the boundary at 0.9, steps 0..3 (t >= 900) run the high-noise expert at cfg_high_noise and
// steps 4..9 the low-noise expert at cfg.
TEST(TwoExperts, EachExpertHasItsOwnGuidanceScale) {
  const std::string dir = two_expert_dir(false);
  const ExpertRun both2 = run_guided(dir, 0.9f, 2.0f, std::nullopt);
  const ExpertRun both5 = run_guided(dir, 0.9f, 5.0f, std::nullopt);
  const ExpertRun high2_low5 = run_guided(dir, 0.9f, 5.0f, 2.0f);
  ASSERT_EQ(high2_low5.latents.size(), 11u);
  ASSERT_EQ(both2.latents.size(), 11u);
  // While the high-noise expert runs, its guidance is 2: the run follows `both2`...
  for (size_t i = 0; i <= 4; ++i) EXPECT_EQ(high2_low5.latents[i], both2.latents[i]) << "latent before step " << i;
  // ...and from the first low-noise step on, guidance 5 makes it another trajectory than both2's.
  for (size_t i = 5; i < 11; ++i) EXPECT_NE(high2_low5.latents[i], both2.latents[i]) << "latent before step " << i;
  EXPECT_NE(high2_low5.latents[1], both5.latents[1]) << "step 0 ran with guidance 2, not 5";
  // cfg_high_noise equal to cfg is the same as not giving it.
  EXPECT_EQ(run_guided(dir, 0.9f, 5.0f, 5.0f).latents, both5.latents);
  // Guidance 1 is one DiT pass: high-noise steps at 4 (2 passes each), low-noise steps at 1.
  EXPECT_EQ(run_guided(dir, 0.9f, 1.0f, 4.0f).dit_passes, 4 * 2 + 6 * 1);
  EXPECT_EQ(run_guided(dir, 0.9f, 4.0f, 1.0f).dit_passes, 4 * 1 + 6 * 2);
  EXPECT_EQ(both5.dit_passes, 20);
}

TEST(TwoExperts, HighNoiseGuidanceNeedsTwoExpertsAndAFiniteScale) {
  auto files = resolve_video_model_files(testing::reference_model_dir("experts_guidance_single"), {});
  ASSERT_TRUE(files) << files.error().to_string();
  auto single = VideoPipeline::load(*files, VideoPipelineOptions{1, WeightPrecision::kF32});
  ASSERT_TRUE(single) << single.error().to_string();
  VideoRequest r;
  r.prompt_ids = {5, 1};
  r.negative_ids = {7, 1};
  r.width = 32;
  r.height = 16;
  r.frames = 5;
  r.steps = 1;
  EXPECT_TRUE((*single)->validate(r));
  r.cfg_high_noise = 4.0f;
  Status s = (*single)->validate(r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cfg_high_noise: this model has one DiT"), std::string::npos) << s.message();

  files = resolve_video_model_files(two_expert_dir(true), {});
  ASSERT_TRUE(files) << files.error().to_string();
  auto two = VideoPipeline::load(*files, VideoPipelineOptions{1, WeightPrecision::kF32});
  ASSERT_TRUE(two) << two.error().to_string();
  EXPECT_TRUE((*two)->validate(r));
  r.cfg_high_noise = std::nanf("");
  s = (*two)->validate(r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cfg_high_noise: must be a finite number"), std::string::npos) << s.message();
  r.cfg_high_noise = -1.0f;
  EXPECT_EQ((*two)->validate(r).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace frugal::video
