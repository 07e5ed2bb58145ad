// The whole text-to-video pipeline against the official WanT2V.generate() runs (e2e_a: UniPC,
// e2e_a_dpmpp: DPM++; 10 steps, CFG 5, 96x64, 9 frames): contexts, every step's latent, the decoded
// video before and after the clamp. F32 numerics; tolerance 1e-4 of max|ref| (the README's e2e one).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/test_data.h"
#include "reference_model.h"
#include "video/pipeline/video_pipeline.h"

namespace frugal::video {
namespace {

using testing::compare;
using testing::data_path;

constexpr double kE2eTolerance = 1e-4;

std::vector<int32_t> read_i32(const std::string& path) {
  const auto raw = testing::read_f32_file(path);  // same bytes, 4 per value
  std::vector<int32_t> out(raw.size());
  std::memcpy(out.data(), raw.data(), raw.size() * 4);
  return out;
}

std::unique_ptr<VideoPipeline> load_reference(int threads) {
  auto files = resolve_video_model_files(testing::reference_model_dir("e2e"), {});
  EXPECT_TRUE(files) << files.error().to_string();
  VideoPipelineOptions options;
  options.num_threads = threads;
  options.precision = WeightPrecision::kF32;
  auto pipeline = VideoPipeline::load(*files, options);
  EXPECT_TRUE(pipeline) << pipeline.error().to_string();
  return pipeline ? std::move(*pipeline) : nullptr;
}

void run_case(const std::string& name, SamplerKind sampler) {
  SCOPED_TRACE(name);
  const std::string dir = "wan/" + name + "/";
  const auto meta = nlohmann::json::parse(testing::read_text_file(data_path(dir + "meta.json")));
  auto pipeline = load_reference(2);
  ASSERT_NE(pipeline, nullptr);
  VideoRequest r;
  r.prompt_ids = read_i32(data_path(dir + "ids_pos.i32"));
  r.negative_ids = read_i32(data_path(dir + "ids_neg.i32"));
  r.width = meta["spec"]["size"][0];
  r.height = meta["spec"]["size"][1];
  r.frames = meta["spec"]["frame_num"];
  r.steps = meta["spec"]["steps"];
  r.shift = meta["spec"]["shift"];
  r.cfg = meta["spec"]["guide_scale"];
  r.sampler = sampler;
  r.noise = testing::read_f32_file(data_path(dir + "noise.f32"));

  int64_t rows = 0;
  auto ctx = pipeline->encode_ids(r.prompt_ids, &rows);
  ASSERT_TRUE(ctx) << ctx.error().to_string();
  EXPECT_LE(compare(ctx->data(), testing::read_f32_file(data_path(dir + "context_pos.f32")), "context_pos").relative(), 1e-5);
  ctx = pipeline->encode_ids(r.negative_ids, &rows);
  ASSERT_TRUE(ctx);
  EXPECT_LE(compare(ctx->data(), testing::read_f32_file(data_path(dir + "context_neg.f32")), "context_neg").relative(), 1e-5);

  std::vector<float> latents, video_raw;
  const int64_t plane = r.height * r.width;
  std::vector<std::vector<float>> channels(3);
  VideoCallbacks cb;
  cb.on_latent = [&](int, const float* x, int64_t n) { latents.insert(latents.end(), x, x + n); };
  cb.on_frames = [&](const float* frames, int64_t n) {
    for (int c = 0; c < 3; ++c) channels[c].insert(channels[c].end(), frames + c * n * plane, frames + (c + 1) * n * plane);
    return Status::ok();
  };
  auto stats = pipeline->generate(r, cb);
  ASSERT_TRUE(stats) << stats.error().to_string();
  EXPECT_EQ(stats->dit_passes, 2 * r.steps);
  for (auto& c : channels) video_raw.insert(video_raw.end(), c.begin(), c.end());

  const auto ref_latents = testing::read_f32_file(data_path(dir + "latents.f32"));
  ASSERT_EQ(latents.size(), ref_latents.size());
  EXPECT_LE(compare(latents.data(), ref_latents, "latents (every step)").relative(), kE2eTolerance);
  const auto ref_raw = testing::read_f32_file(data_path(dir + "video_raw.f32"));
  ASSERT_EQ(video_raw.size(), ref_raw.size());
  EXPECT_LE(compare(video_raw.data(), ref_raw, "video_raw").relative(), kE2eTolerance);
  std::vector<float> clamped = video_raw;
  for (float& v : clamped) v = std::clamp(v, -1.0f, 1.0f);
  EXPECT_LE(compare(clamped.data(), testing::read_f32_file(data_path(dir + "video.f32")), "video").relative(), kE2eTolerance);
}

TEST(PipelineE2e, UniPcMatchesTheOfficialGenerate) { run_case("e2e_a", SamplerKind::kUniPC); }
TEST(PipelineE2e, DpmPlusPlusMatchesTheOfficialGenerate) { run_case("e2e_a_dpmpp", SamplerKind::kDpmPlusPlus); }

}  // namespace
}  // namespace frugal::video
