// From API fields to a job: seconds → frames (16 fps, 4n+1), size → pixels, tier presets, and the
// 400s that say what a model can make.
#include "jobs/job_spec.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace frugal::jobs {
namespace {

VideoServiceConfig test_config() {
  auto config = parse_video_service_config(R"({"default_tier": "draft", "max_frames": 33, "max_side": 128,
    "tiers": [{"name": "draft", "size": "64x64", "frames": 5, "steps": 2, "priority": 3},
              {"name": "final", "model": "big", "size": "128x64", "frames": 9, "steps": 4, "sampler": "euler",
               "priority": 1, "concurrency": 2}]})");
  EXPECT_TRUE(config) << config.error().to_string();
  return *config;
}

const std::vector<std::string> kModels = {"tiny", "big"};

JobRecord resolve_ok(const VideoCreateParams& params) {
  auto resolved = resolve_job_spec(params, test_config(), kModels, 1000);
  if (auto* error = std::get_if<SpecError>(&resolved)) {
    ADD_FAILURE() << error->status.to_string();
    return {};
  }
  return std::get<JobRecord>(resolved);
}

SpecError resolve_error(const VideoCreateParams& params) {
  auto resolved = resolve_job_spec(params, test_config(), kModels, 1000);
  EXPECT_TRUE(std::holds_alternative<SpecError>(resolved));
  return std::holds_alternative<SpecError>(resolved) ? std::get<SpecError>(resolved) : SpecError{};
}

TEST(FramesForSeconds, RoundsToTheNearest4nPlus1At16Fps) {
  EXPECT_EQ(frames_for_seconds("4", 16), 65);
  EXPECT_EQ(frames_for_seconds("5", 16), 81);
  EXPECT_EQ(frames_for_seconds("0.5", 16), 9);
  EXPECT_EQ(frames_for_seconds("0.25", 16), 5);
  EXPECT_EQ(frames_for_seconds("0.01", 16), 5) << "at least one latent frame after the first";
  for (const char* bad : {"", "0", "-1", "abc", "4s", "nan", "inf"}) EXPECT_FALSE(frames_for_seconds(bad, 16)) << bad;
}

TEST(ResolveJobSpec, TheDefaultTierFillsEverything) {
  VideoCreateParams params;
  params.prompt = "a cat";
  params.seed = 42;
  const JobRecord job = resolve_ok(params);
  EXPECT_EQ(job.tier, "draft");
  EXPECT_EQ(job.model, "tiny") << "a tier without a model runs on the first served model";
  EXPECT_EQ(job.size, "64x64");
  EXPECT_EQ(job.frames, 5);
  EXPECT_EQ(job.seconds, "0.25");
  EXPECT_EQ(job.steps, 2);
  EXPECT_EQ(job.priority, 3);
  EXPECT_EQ(job.seed, 42u);
  EXPECT_EQ(job.created_at, 1000);
  EXPECT_EQ(job.id.rfind("video_", 0), 0u);
  EXPECT_EQ(job.id.size(), 6u + 32u);
  EXPECT_EQ(job.moderation_hold, "");
}

TEST(ResolveJobSpec, AModerationHoldReasonIsCopiedToTheJob) {
  VideoCreateParams params;
  params.prompt = "a cat";
  params.hold_reason = "moderation: category self_harm (term)";
  EXPECT_EQ(resolve_ok(params).moderation_hold, "moderation: category self_harm (term)");
}

TEST(ResolveJobSpec, SecondsAndSizeOverrideTheTierAndAutoPicksTheTiersModel) {
  VideoCreateParams params;
  params.prompt = "a dog";
  params.tier = "final";
  params.model = "auto";
  params.seconds = "2";
  params.size = "96x128";
  const JobRecord job = resolve_ok(params);
  EXPECT_EQ(job.model, "big");
  EXPECT_EQ(job.frames, 33);
  EXPECT_EQ(job.seconds, "2");
  EXPECT_EQ(job.width, 96);
  EXPECT_EQ(job.height, 128);
  EXPECT_EQ(job.sampler, "euler");
}

TEST(ResolveJobSpec, ImpossibleRequestsSayWhatTheModelCanMake) {
  VideoCreateParams params;
  params.prompt = "x";
  params.size = "100x64";
  SpecError error = resolve_error(params);
  EXPECT_EQ(error.param, "size");
  EXPECT_EQ(error.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(error.status.message().find("multiples of 16 from 16 to 128"), std::string::npos) << error.status.message();
  params.size = "1280x720";
  EXPECT_EQ(resolve_error(params).param, "size");
  params.size.reset();
  params.seconds = "12";
  error = resolve_error(params);
  EXPECT_EQ(error.param, "seconds");
  EXPECT_NE(error.status.message().find("0.25 to 2 seconds"), std::string::npos) << error.status.message();
}

TEST(ResolveJobSpec, BadPromptTierAndModel) {
  VideoCreateParams params;
  EXPECT_EQ(resolve_error(params).param, "prompt");
  params.prompt = "";
  EXPECT_EQ(resolve_error(params).param, "prompt");
  params.prompt = std::string(4001, 'a');
  EXPECT_EQ(resolve_error(params).param, "prompt");
  params.prompt = "ok";
  params.tier = "ultra";
  SpecError error = resolve_error(params);
  EXPECT_EQ(error.param, "tier");
  EXPECT_NE(error.status.message().find("draft, final"), std::string::npos);
  params.tier.reset();
  params.model = "sora-2";
  error = resolve_error(params);
  EXPECT_EQ(error.param, "model");
  EXPECT_EQ(error.status.code(), StatusCode::kNotFound);
}

TEST(VideoTiersConfig, DefaultsAndBadFiles) {
  const VideoServiceConfig defaults = default_video_service_config();
  ASSERT_EQ(defaults.tiers.size(), 3u);
  EXPECT_EQ(defaults.tiers[0].name, "draft");
  EXPECT_GT(defaults.tiers[0].priority, defaults.tiers[2].priority);
  EXPECT_EQ(defaults.find_tier("final")->frames, 81);
  for (const char* bad : {"[]", "{}", R"({"tiers": []})", R"({"tiers": [{"name": "a", "size": "65x64"}]})",
                          R"({"tiers": [{"name": "a", "frames": 6}]})", R"({"tiers": [{"name": "a", "sampler": "x"}]})",
                          R"({"tiers": [{"name": "a"}, {"name": "a"}]})", R"({"tiers": [{"name": "a", "steps": "2"}]})",
                          R"({"default_tier": "b", "tiers": [{"name": "a"}]})"}) {
    EXPECT_FALSE(parse_video_service_config(bad)) << bad;
  }
  auto ok = parse_video_service_config(R"({"default_tier": "a", "tiers": [{"name": "a"}]})");
  ASSERT_TRUE(ok) << ok.error().to_string();
}

// The tier files `make serve` (scripts/serve-demo) uses for the bundled model: draft on the distilled
// DiT (or fewer steps of the full one), preview and final on wan-shapes with more steps each, all at
// the size the model was trained on; the API accepts that size and length and nothing larger.
TEST(VideoTiersConfig, TheShippedTierFilesServeTheBundledModelAtItsTrainedSize) {
  const std::filesystem::path data = std::filesystem::path(FRUGAL_TEST_DATA_DIR).parent_path().parent_path() / "data/video";
  for (const std::string file : {"tiers-wan-shapes.json", "tiers-wan-shapes-draft.json"}) {
    auto config = load_video_service_config((data / file).string());
    ASSERT_TRUE(config) << file << ": " << config.error().to_string();
    EXPECT_EQ(config->default_tier, "draft") << file;
    const TierPreset* draft = config->find_tier("draft");
    const TierPreset* preview = config->find_tier("preview");
    const TierPreset* final_tier = config->find_tier("final");
    ASSERT_TRUE(draft && preview && final_tier) << file;
    EXPECT_EQ(draft->model, file == "tiers-wan-shapes.json" ? "" : "wan-shapes-draft") << file;
    EXPECT_EQ(preview->model, file == "tiers-wan-shapes.json" ? "" : "wan-shapes") << file;
    EXPECT_EQ(final_tier->model, preview->model) << file;
    EXPECT_LT(draft->steps, preview->steps) << file;
    EXPECT_LT(preview->steps, final_tier->steps) << file;
    EXPECT_GT(draft->priority, preview->priority) << file;
    EXPECT_GT(preview->priority, final_tier->priority) << file;
    for (const TierPreset* tier : {draft, preview, final_tier}) {
      EXPECT_EQ(tier->width, 64) << file << " " << tier->name;
      EXPECT_EQ(tier->height, 64) << file << " " << tier->name;
      EXPECT_EQ(tier->frames, 17) << file << " " << tier->name;
    }
    const std::vector<std::string> models = {"wan-shapes", "wan-shapes-draft"};
    VideoCreateParams params;
    params.prompt = "a red circle moving right on a black background";
    params.tier = "final";
    auto resolved = resolve_job_spec(params, *config, models, 1000);
    ASSERT_TRUE(std::holds_alternative<JobRecord>(resolved)) << file;
    EXPECT_EQ(std::get<JobRecord>(resolved).model, "wan-shapes") << file;
    EXPECT_EQ(std::get<JobRecord>(resolved).seconds, "1") << file;
    params.seconds = "1";
    params.size = "64x64";
    EXPECT_TRUE(std::holds_alternative<JobRecord>(resolve_job_spec(params, *config, models, 1000))) << file;
    for (const auto& [field, value] : {std::pair<std::string, std::string>{"size", "128x128"}, {"seconds", "2"}}) {
      VideoCreateParams bad = params;
      (field == "size" ? bad.size : bad.seconds) = value;
      auto refused = resolve_job_spec(bad, *config, models, 1000);
      ASSERT_TRUE(std::holds_alternative<SpecError>(refused)) << file << " " << field << "=" << value;
      EXPECT_EQ(std::get<SpecError>(refused).param, field) << file;
      EXPECT_EQ(std::get<SpecError>(refused).status.code(), StatusCode::kInvalidArgument) << file;
    }
  }
}

}  // namespace
}  // namespace frugal::jobs
