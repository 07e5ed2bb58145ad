// Wan2.2's two-expert models (high_noise_model/ + low_noise_model/): the high-noise DiT runs while
// t >= boundary·1000, the low-noise DiT after, in the same pipeline code.
#include <gtest/gtest.h>

#include <filesystem>

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

}  // namespace
}  // namespace frugal::video
