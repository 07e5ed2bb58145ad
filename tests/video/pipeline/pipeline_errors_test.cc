// Bad requests and bad model folders get a clear Status naming the field or the part, never a crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/test_data.h"
#include "reference_model.h"
#include "video/pipeline/video_pipeline.h"

namespace frugal::video {
namespace {

namespace fs = std::filesystem;
using testing::data_path;

std::unique_ptr<VideoPipeline> reference_pipeline() {
  auto files = resolve_video_model_files(testing::reference_model_dir("errors"), {});
  EXPECT_TRUE(files);
  auto p = VideoPipeline::load(*files, VideoPipelineOptions{1, WeightPrecision::kF32});
  EXPECT_TRUE(p) << p.error().to_string();
  return p ? std::move(*p) : nullptr;
}

VideoRequest small_request() {
  VideoRequest r;
  r.prompt_ids = {5, 6, 1};
  r.negative_ids = {7, 1};
  r.width = 32;
  r.height = 16;
  r.frames = 5;
  r.steps = 1;
  return r;
}

void expect_invalid(const VideoPipeline& p, const VideoRequest& r, const std::string& needle) {
  const Status s = p.validate(r);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << needle;
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

TEST(PipelineErrors, BadRequestsNameTheField) {
  auto p = reference_pipeline();
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->validate(small_request()));
  VideoRequest r = small_request();
  r.frames = 8;
  expect_invalid(*p, r, "4n+1");
  r = small_request();
  r.width = 40;
  expect_invalid(*p, r, "multiples of 16");
  r = small_request();
  r.height = 0;
  expect_invalid(*p, r, "multiples of 16");
  r = small_request();
  r.prompt_ids.clear();
  r.prompt = "   ";
  expect_invalid(*p, r, "prompt");
  r = small_request();
  r.prompt_ids.clear();
  r.prompt = "a red circle";
  expect_invalid(*p, r, "tokenizer");  // the reference folder has no spiece.model
  r = small_request();
  r.steps = 0;
  expect_invalid(*p, r, "steps");
  r = small_request();
  r.shift = -1;
  expect_invalid(*p, r, "shift");
  r = small_request();
  r.cfg = std::nanf("");
  expect_invalid(*p, r, "cfg");
  r = small_request();
  r.noise.assign(7, 0.0f);
  expect_invalid(*p, r, "noise");
  EXPECT_FALSE(parse_sampler_kind("ddim"));
  // generate() refuses what validate() refuses, before any work.
  r = small_request();
  r.frames = 6;
  auto run = p->generate(r, {});
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code(), StatusCode::kInvalidArgument);
}

TEST(PipelineErrors, TokenIdsOutsideTheVocabularyAreRefused) {
  auto p = reference_pipeline();
  ASSERT_NE(p, nullptr);
  VideoRequest r = small_request();
  r.prompt_ids = {5, 100000, 1};
  r.cfg = 1.0f;
  auto run = p->generate(r, {});
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code(), StatusCode::kInvalidArgument) << run.error().to_string();
}

TEST(PipelineErrors, CancellationStopsTheRun) {
  auto p = reference_pipeline();
  ASSERT_NE(p, nullptr);
  VideoRequest r = small_request();
  r.steps = 4;
  int polls = 0;
  VideoCallbacks cb;
  cb.cancelled = [&] { return ++polls > 2; };
  auto run = p->generate(r, cb);
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code(), StatusCode::kCancelled);
}

TEST(PipelineErrors, MismatchedAndMissingPartsAreNamed) {
  const std::string dir = testing::reference_model_dir("mismatch");
  // dit_b expects a 48-wide text context; t5_a makes 32.
  fs::remove(fs::path(dir) / "diffusion_pytorch_model.safetensors");
  fs::remove(fs::path(dir) / "config.json");
  fs::create_symlink(data_path("wan/dit_b/diffusion_pytorch_model.safetensors"), fs::path(dir) / "diffusion_pytorch_model.safetensors");
  fs::create_symlink(data_path("wan/dit_b/config.json"), fs::path(dir) / "config.json");
  auto files = resolve_video_model_files(dir, {});
  ASSERT_TRUE(files);
  auto p = VideoPipeline::load(*files, {});
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message().find("text_dim"), std::string::npos) << p.error().to_string();

  fs::remove(fs::path(dir) / "Wan2.1_VAE.safetensors");
  auto missing = resolve_video_model_files(dir, {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("VAE"), std::string::npos) << missing.error().to_string();
  std::ofstream(fs::path(dir) / "Wan2.1_VAE.pth") << "pickle";
  missing = resolve_video_model_files(dir, {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("pth_to_safetensors"), std::string::npos) << missing.error().to_string();

  // A truncated VAE file.
  std::ifstream in(data_path("wan/vae_a/Wan2.1_VAE.safetensors"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(fs::path(dir) / "Wan2.1_VAE.safetensors", std::ios::binary).write(bytes.data(), 1000);
  fs::remove(fs::path(dir) / "config.json");
  fs::create_symlink(data_path("wan/dit_a/config.json"), fs::path(dir) / "config.json");
  fs::remove(fs::path(dir) / "diffusion_pytorch_model.safetensors");
  fs::create_symlink(data_path("wan/dit_a/diffusion_pytorch_model.safetensors"), fs::path(dir) / "diffusion_pytorch_model.safetensors");
  files = resolve_video_model_files(dir, {});
  ASSERT_TRUE(files);
  p = VideoPipeline::load(*files, {});
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message().find("VAE"), std::string::npos) << p.error().to_string();
  EXPECT_FALSE(resolve_video_model_files("/nonexistent/model", {}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace frugal::video
