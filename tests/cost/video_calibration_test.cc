// Video calibration (issue 23, item 5): the record's JSON round trip and merge, the choice of points
// for a model, the FLOPs of a DiT pass, and the fit of machine rates on synthetic measurements made
// by known rates (the fit must recover them and predict configurations it was not given).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <unistd.h>

#include "cost/video_calibration.h"
#include "cost/video_rates.h"

namespace frugal {
namespace {

// wan-tiny's DiT shape (frugal mkmodel --preset wan-tiny).
VideoCalibrationPoint tiny_point(int64_t w, int64_t h, int64_t frames, bool cfg) {
  VideoCalibrationPoint p;
  p.model = "tiny";
  p.signature = "tiny-sig";
  p.dim = 64;
  p.n_layer = 2;
  p.n_head = 4;
  p.ffn_dim = 128;
  p.text_len = 512;
  p.threads = 1;
  p.width = w;
  p.height = h;
  p.frames = frames;
  p.steps = 2;
  p.cfg = cfg;
  p.repetitions = 3;
  return p;
}

// Synthetic machine: the times the documented model gives for these rates.
struct Machine {
  double linear = 4e9, attention = 2e9, per_pass = 0.003, per_prompt = 0.01, per_pixel_frame = 2e-5, vae_fixed = 0.05;
};

VideoCalibrationPoint measured(const Machine& m, VideoCalibrationPoint p, double noise = 0.0) {
  const VideoPassWork w = video_pass_work(dit_config_of(p), p.width, p.height, p.frames);
  const double passes = p.cfg ? 2 : 1;
  p.seconds_per_step = passes * (w.linear_flops / m.linear + w.attention_flops / m.attention + m.per_pass) * (1 + noise);
  p.text_encode_seconds = passes * m.per_prompt;
  p.vae_decode_seconds = m.per_pixel_frame * static_cast<double>(p.width * p.height * p.frames) + m.vae_fixed;
  p.total_seconds = p.text_encode_seconds + p.seconds_per_step * static_cast<double>(p.steps) + p.vae_decode_seconds;
  return p;
}

std::vector<VideoCalibrationPoint> calibration_grid(const Machine& m) {
  std::vector<VideoCalibrationPoint> points;
  for (int64_t side : {64, 128, 192}) {
    for (int64_t frames : {5, 9}) {
      for (bool cfg : {true, false}) points.push_back(measured(m, tiny_point(side, side, frames, cfg)));
    }
  }
  return points;
}

TEST(VideoCalibration, PassWorkFollowsTheFormulas) {
  const DitConfig dit = dit_config_of(tiny_point(128, 128, 9, true));
  const VideoPassWork w = video_pass_work(dit, 128, 128, 9);
  // Latent 3 x 16 x 16, patches 1x2x2: 3 x 8 x 8 = 192 tokens.
  EXPECT_EQ(w.tokens, 192);
  const double n = 192, d = 64, L = 2;
  EXPECT_DOUBLE_EQ(w.linear_flops, n * (L * (12 * d * d + 4 * d * 128) + 4 * d * 16 * 4) + L * 4 * d * d * 512);
  EXPECT_DOUBLE_EQ(w.attention_flops, L * 4 * d * (n * n + n * 512));
}

TEST(VideoCalibration, NnlsSolvesExactSystemsAndClampsNegatives) {
  // b = 2 a0 + 3 a1, exactly.
  const std::vector<std::vector<double>> a = {{1, 0}, {0, 1}, {1, 1}, {2, 1}};
  std::vector<double> x = small_nnls(a, {2, 3, 5, 7});
  ASSERT_EQ(x.size(), 2u);
  EXPECT_NEAR(x[0], 2.0, 1e-9);
  EXPECT_NEAR(x[1], 3.0, 1e-9);
  // Unconstrained least squares would make x1 negative; NNLS sets it to 0.
  x = small_nnls({{1, 1}, {1, 2}, {1, 3}}, {3, 2, 1});
  ASSERT_EQ(x.size(), 2u);
  EXPECT_GE(x[1], 0.0);
  EXPECT_DOUBLE_EQ(x[1], 0.0);
  EXPECT_NEAR(x[0], 2.0, 1e-9);
  EXPECT_TRUE(small_nnls({}, {}).empty());
  EXPECT_TRUE(small_nnls({{1, 2, 3, 4, 5}}, {1}).empty());  // more than 4 columns
}

TEST(VideoCalibration, FitRecoversTheRatesAndPredictsHeldOutConfigurations) {
  const Machine m;
  const std::vector<VideoCalibrationPoint> points = calibration_grid(m);
  const DitConfig dit = dit_config_of(points.front());
  auto rates = fit_video_rates(dit, points);
  ASSERT_TRUE(rates.has_value()) << rates.error().to_string();
  EXPECT_NEAR(rates->linear_flops_per_s / m.linear, 1.0, 1e-6);
  EXPECT_NEAR(rates->attention_flops_per_s / m.attention, 1.0, 1e-6);
  EXPECT_NEAR(rates->seconds_per_pass, m.per_pass, 1e-9);
  EXPECT_NEAR(rates->seconds_per_prompt, m.per_prompt, 1e-12);
  EXPECT_NEAR(rates->seconds_per_pixel_frame, m.per_pixel_frame, 1e-12);
  EXPECT_NEAR(rates->vae_fixed_seconds, m.vae_fixed, 1e-6);
  EXPECT_LT(rates->max_step_fit_error, 1e-6);
  // Configurations outside the grid: other sizes, frames, steps and a non-square aspect.
  for (const VideoCalibrationPoint& held : {tiny_point(256, 256, 9, true), tiny_point(96, 160, 13, false),
                                            tiny_point(320, 192, 5, true), tiny_point(64, 64, 17, false)}) {
    VideoCalibrationPoint truth = measured(m, held);
    truth.steps = 7;
    truth.total_seconds = truth.text_encode_seconds + 7 * truth.seconds_per_step + truth.vae_decode_seconds;
    const VideoPrediction p = predict_video(*rates, dit, held.width, held.height, held.frames, 7, held.cfg);
    EXPECT_NEAR(p.seconds_per_step / truth.seconds_per_step, 1.0, 1e-6);
    EXPECT_NEAR(p.vae_decode_seconds / truth.vae_decode_seconds, 1.0, 1e-6);
    EXPECT_NEAR(p.total_seconds / truth.total_seconds, 1.0, 1e-6);
    EXPECT_EQ(p.passes, held.cfg ? 2 : 1);
  }
}

TEST(VideoCalibration, FitToleratesNoiseAndReportsIt) {
  const Machine m;
  std::vector<VideoCalibrationPoint> points;
  const double noise[] = {0.04, -0.03, 0.02, -0.04, 0.03, -0.02, 0.01, -0.01, 0.04, -0.04, 0.0, 0.02};
  size_t i = 0;
  for (int64_t side : {64, 128, 192}) {
    for (int64_t frames : {5, 9}) {
      for (bool cfg : {true, false}) points.push_back(measured(m, tiny_point(side, side, frames, cfg), noise[i++]));
    }
  }
  auto rates = fit_video_rates(dit_config_of(points.front()), points);
  ASSERT_TRUE(rates.has_value());
  EXPECT_GT(rates->max_step_fit_error, 0.0);
  EXPECT_LT(rates->max_step_fit_error, 0.08);
  const VideoCalibrationPoint truth = measured(m, tiny_point(256, 256, 9, true));
  const VideoPrediction p = predict_video(*rates, dit_config_of(truth), 256, 256, 9, 2, true);
  EXPECT_NEAR(p.seconds_per_step / truth.seconds_per_step, 1.0, 0.08);
}

TEST(VideoCalibration, FitNeedsThreeTokenCounts) {
  const Machine m;
  std::vector<VideoCalibrationPoint> points = {measured(m, tiny_point(64, 64, 5, true)),
                                               measured(m, tiny_point(64, 64, 5, false)),
                                               measured(m, tiny_point(128, 128, 5, true))};
  auto rates = fit_video_rates(dit_config_of(points.front()), points);
  ASSERT_FALSE(rates.has_value());
  EXPECT_NE(rates.error().message().find(">= 3 different token counts"), std::string::npos);
  // DiT-only points (no VAE): the VAE terms stay unfitted.
  points.push_back(measured(m, tiny_point(192, 192, 5, false)));
  for (auto& p : points) {
    p.decoded = false;
    p.vae_decode_seconds = 0;
  }
  rates = fit_video_rates(dit_config_of(points.front()), points);
  ASSERT_TRUE(rates.has_value());
  EXPECT_FALSE(rates->has_vae);
  EXPECT_EQ(predict_video(*rates, dit_config_of(points.front()), 64, 64, 5, 2, true).vae_decode_seconds, 0.0);
}

TEST(VideoCalibration, JsonRoundTripAndBadRecords) {
  VideoCalibrationRecord r;
  r.machine_id = "host";
  r.cpu_model = "cpu";
  r.created_utc = "2026-12-07T11:00:00Z";
  r.method = "synthetic";
  r.points = calibration_grid(Machine{});
  r.points[1].decoded = false;
  auto back = video_calibration_from_json(video_calibration_to_json(r), "test");
  ASSERT_TRUE(back.has_value()) << back.error().to_string();
  ASSERT_EQ(back->points.size(), r.points.size());
  EXPECT_EQ(back->method, "synthetic");
  EXPECT_EQ(back->points[3].width, r.points[3].width);
  EXPECT_EQ(back->points[3].cfg, r.points[3].cfg);
  EXPECT_FALSE(back->points[1].decoded);
  EXPECT_DOUBLE_EQ(back->points[5].seconds_per_step, r.points[5].seconds_per_step);

  EXPECT_FALSE(video_calibration_from_json("[1]", "t").has_value());
  EXPECT_FALSE(video_calibration_from_json(R"({"schema":"frugal.calibration/1","points":[]})", "t").has_value());
  std::string text = video_calibration_to_json(r);
  const size_t at = text.find("\"seconds_per_step\": ");
  ASSERT_NE(at, std::string::npos);
  text.insert(at + 20, "-");  // a negative time
  auto neg = video_calibration_from_json(text, "neg.json");
  ASSERT_FALSE(neg.has_value());
  EXPECT_NE(neg.error().message().find("neg.json"), std::string::npos);
}

TEST(VideoCalibration, SaveLoadAndMerge) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("frugal_video_cal_" + std::to_string(::getpid())) / "rec.json").string();
  VideoCalibrationRecord old;
  old.machine_id = "host";
  old.cpu_model = "cpu";
  old.points = {measured(Machine{}, tiny_point(64, 64, 5, true)), measured(Machine{}, tiny_point(128, 128, 5, true))};
  ASSERT_TRUE(save_video_calibration(old, path).is_ok());
  auto loaded = load_video_calibration(path);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->points.size(), 2u);
  VideoCalibrationRecord fresh = old;
  fresh.points = {measured(Machine{}, tiny_point(64, 64, 5, true), 0.5), measured(Machine{}, tiny_point(64, 64, 9, true))};
  const VideoCalibrationRecord merged = merge_video_calibration(*loaded, fresh);
  ASSERT_EQ(merged.points.size(), 3u);  // 128x128 kept, 64x64x5 replaced, 64x64x9 added
  int replaced = 0;
  for (const auto& p : merged.points) {
    if (p.width == 64 && p.frames == 5) {
      ++replaced;
      EXPECT_DOUBLE_EQ(p.seconds_per_step, fresh.points[0].seconds_per_step);
    }
  }
  EXPECT_EQ(replaced, 1);
  VideoCalibrationRecord other = fresh;
  other.machine_id = "elsewhere";
  EXPECT_EQ(merge_video_calibration(*loaded, other).points.size(), 2u);  // another machine: fresh only
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
  EXPECT_FALSE(load_video_calibration(path).has_value());
}

TEST(VideoCalibration, PointsForAModelAndThreadCount) {
  VideoCalibrationRecord r;
  r.points = {tiny_point(64, 64, 5, true), tiny_point(128, 128, 5, true), tiny_point(64, 64, 5, true)};
  r.points[2].threads = 2;
  auto none = video_points_for(r, "rec.json", "other", "other-sig", 0);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message().find("no points for the model other"), std::string::npos);
  EXPECT_NE(none.error().message().find("frugal bench video -m other"), std::string::npos);
  auto ambiguous = video_points_for(r, "rec.json", "tiny", "tiny-sig", 0);
  ASSERT_FALSE(ambiguous.has_value());
  EXPECT_NE(ambiguous.error().message().find("--threads"), std::string::npos);
  auto one = video_points_for(r, "rec.json", "tiny", "tiny-sig", 1);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->size(), 2u);
  EXPECT_FALSE(video_points_for(r, "rec.json", "tiny", "tiny-sig", 4).has_value());
}

}  // namespace
}  // namespace frugal
