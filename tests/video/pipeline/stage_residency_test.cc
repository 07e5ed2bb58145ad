// StageResidency (docs/design/video-memory.md): a one-shot pipeline (kPerStage, what `frugal video`
// uses) frees the text encoder after the text stage and the DiT after the denoise, reloads them for
// a second request, and produces exactly what the resident pipeline (`frugal serve`) produces.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>

#include "common/test_data.h"
#include "reference_model.h"
#include "video/pipeline/video_pipeline.h"

namespace frugal::video {
namespace {

using testing::data_path;

std::vector<int32_t> read_i32(const std::string& path) {
  const auto raw = testing::read_f32_file(path);  // same bytes, 4 per value
  std::vector<int32_t> out(raw.size());
  std::memcpy(out.data(), raw.data(), raw.size() * 4);
  return out;
}

struct StagedRun {
  std::vector<float> frames;
  VideoPipeline::ResidentParts after_text, after_denoise;
  VideoRunStats stats;
};

StagedRun generate(VideoPipeline& pipeline, const VideoRequest& r) {
  StagedRun run;
  VideoCallbacks cb;
  cb.on_progress = [&](const VideoProgress& p) {
    if (p.stage == VideoStage::kDenoise && p.step == 0) run.after_text = pipeline.resident_parts();
    if (p.stage == VideoStage::kVaeDecode && p.step == 0) run.after_denoise = pipeline.resident_parts();
  };
  cb.on_frames = [&](const float* frames, int64_t n) {
    run.frames.insert(run.frames.end(), frames, frames + 3 * n * r.height * r.width);
    return Status::ok();
  };
  auto stats = pipeline.generate(r, cb);
  EXPECT_TRUE(stats) << stats.error().to_string();
  if (stats) run.stats = *stats;
  return run;
}

TEST(StageResidency, PerStageFreesPartsAndMatchesResident) {
  const std::string dir = testing::reference_model_dir("residency");
  auto files = resolve_video_model_files(dir, {});
  ASSERT_TRUE(files) << files.error().to_string();
  const auto meta = nlohmann::json::parse(testing::read_text_file(data_path("wan/e2e_a/meta.json")));
  VideoRequest r;
  r.prompt_ids = read_i32(data_path("wan/e2e_a/ids_pos.i32"));
  r.negative_ids = read_i32(data_path("wan/e2e_a/ids_neg.i32"));
  r.width = meta["spec"]["size"][0];
  r.height = meta["spec"]["size"][1];
  r.frames = meta["spec"]["frame_num"];
  r.steps = 1;
  r.cfg = 5.0f;
  r.noise = testing::read_f32_file(data_path("wan/e2e_a/noise.f32"));

  VideoPipelineOptions options;
  options.num_threads = 2;
  auto resident = VideoPipeline::load(*files, options);
  ASSERT_TRUE(resident) << resident.error().to_string();
  options.residency = StageResidency::kPerStage;
  auto staged = VideoPipeline::load(*files, options);
  ASSERT_TRUE(staged) << staged.error().to_string();

  // kPerStage: the DiT is not loaded until the denoise; the text encoder and VAE are.
  auto parts = (*staged)->resident_parts();
  EXPECT_TRUE(parts.text_encoder);
  EXPECT_FALSE(parts.dit);
  EXPECT_TRUE(parts.vae);
  const StagedRun want = generate(**resident, r);
  EXPECT_TRUE(want.after_text.text_encoder && want.after_text.dit);  // kResident keeps everything
  EXPECT_TRUE(want.after_denoise.text_encoder && want.after_denoise.dit);
  for (int pass = 0; pass < 2; ++pass) {  // the second request reloads what the first one freed
    SCOPED_TRACE(pass);
    const StagedRun got = generate(**staged, r);
    EXPECT_FALSE(got.after_text.text_encoder);  // freed once the contexts are encoded
    EXPECT_TRUE(got.after_text.dit);
    EXPECT_FALSE(got.after_denoise.dit);        // freed before the decode
    EXPECT_TRUE(got.after_denoise.vae);
    EXPECT_GT(got.stats.stage_load_seconds, 0.0);
    ASSERT_EQ(got.frames.size(), want.frames.size());
    EXPECT_EQ(got.frames, want.frames);
  }
  std::filesystem::remove_all(dir);
}

// A broken DiT file still fails at load() under kPerStage (its tensors are checked, not loaded).
TEST(StageResidency, PerStageChecksTheDitAtLoad) {
  const std::string dir = testing::reference_model_dir("residency_bad");
  auto files = resolve_video_model_files(dir, {});
  ASSERT_TRUE(files) << files.error().to_string();
  files->dits.front().weights = {data_path("wan/vae_a/Wan2.1_VAE.safetensors")};  // not a DiT
  VideoPipelineOptions options;
  options.num_threads = 1;
  options.residency = StageResidency::kPerStage;
  auto staged = VideoPipeline::load(*files, options);
  ASSERT_FALSE(staged);
  EXPECT_NE(staged.error().message().find("DiT"), std::string::npos) << staged.error().to_string();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace frugal::video
