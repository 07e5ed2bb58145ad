// The judge on clips whose truth is known: every caption of the grammar drawn by the reference
// renderer at 64x64x17 with random geometry must be judged right on all four attributes; noise,
// blur and a real H.264 round trip must keep every attribute at >= 98 %; empty and static clips
// read "no object" / direction "none".
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <unistd.h>

#include "media/mp4_reader.h"
#include "media/mp4_writer.h"
#include "video/eval/clip_degrade.h"
#include "video/eval/clip_judge.h"
#include "video/eval/clip_render.h"

namespace frugal::video {
namespace {

constexpr int kSize = 64;
constexpr int kFrames = 17;

struct Tally {
  int clips = 0, colour = 0, shape = 0, direction = 0, background = 0, all = 0;
  std::string failures;  // the first few, with measurements
  // Per true shape: min and max of fill, skew, kurtosis (the ranges the judge's thresholds cite).
  double lo[3][3] = {{9, 9, 9}, {9, 9, 9}, {9, 9, 9}}, hi[3][3] = {{-9, -9, -9}, {-9, -9, -9}, {-9, -9, -9}};

  void add(const Caption& c, const ClipVerdict& v) {
    const AttributeScores s = score_verdict(v, c);
    ++clips;
    colour += s.colour;
    shape += s.shape;
    direction += s.direction;
    background += s.background;
    all += s.all();
    const int k = static_cast<int>(c.shape);
    const double m[3] = {v.fill_ratio, v.skew, v.kurtosis};
    for (int i = 0; i < 3; ++i) {
      lo[k][i] = std::min(lo[k][i], m[i]);
      hi[k][i] = std::max(hi[k][i], m[i]);
    }
    if (!s.all() && std::count(failures.begin(), failures.end(), '\n') < 12) {
      char line[320];
      std::snprintf(line, sizeof(line), "  %s -> %s (fill %.3f skew %.4f kurt %.5f dx %.1f dy %.1f obj %d,%d,%d)\n",
                    render_caption(c).c_str(), describe_verdict(v).c_str(), v.fill_ratio, v.skew, v.kurtosis,
                    v.displacement_x, v.displacement_y, v.object_rgb.r, v.object_rgb.g, v.object_rgb.b);
      failures += line;
    }
  }
  double pct(int n) const { return 100.0 * n / clips; }
  void print(const char* what) const {
    std::printf("%-22s %d clips: colour %.1f %%, background %.1f %%, shape %.1f %%, direction %.1f %%, all %.1f %%\n%s",
                what, clips, pct(colour), pct(background), pct(shape), pct(direction), pct(all), failures.c_str());
    for (ShapeKind shape : kShapes) {
      const int k = static_cast<int>(shape);
      std::printf("  %-8s fill %.3f..%.3f  skew %.4f..%.4f  kurtosis %.5f..%.5f\n", std::string(shape_name(shape)).c_str(),
                  lo[k][0], hi[k][0], lo[k][1], hi[k][1], lo[k][2], hi[k][2]);
    }
  }
};

// Renders every caption with geometry from its own seed, passes it through `degrade`, judges it.
Tally judge_all(const std::function<void(RgbClip&, uint64_t)>& degrade, uint64_t seed_base) {
  Tally t;
  uint64_t idx = 0;
  for (const Caption& c : all_captions()) {
    const uint64_t seed = seed_base + idx++;
    RgbClip clip = render_clip(c, random_render_params(c, kSize, kSize, kFrames, seed));
    degrade(clip, seed);
    auto v = judge_clip(clip);
    EXPECT_TRUE(v.has_value()) << v.error().to_string();
    if (v) t.add(c, *v);
  }
  return t;
}

void expect_at_least(const Tally& t, double min_pct) {
  EXPECT_GE(t.pct(t.colour), min_pct);
  EXPECT_GE(t.pct(t.background), min_pct);
  EXPECT_GE(t.pct(t.shape), min_pct);
  EXPECT_GE(t.pct(t.direction), min_pct);
  EXPECT_GE(t.pct(t.all), min_pct);
}

// Through libx264 (crf 18, the writer's default) and back through libavcodec.
void h264_round_trip(RgbClip& clip, uint64_t seed) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("frugal_eval_" + std::to_string(::getpid()) + "_" + std::to_string(seed) + ".mp4")).string();
  media::Mp4Options options;
  options.fps = {16, 1};
  options.num_threads = 1;
  auto writer = media::Mp4Writer::open(path, clip.width, clip.height, options);
  ASSERT_TRUE(writer.has_value()) << writer.error().to_string();
  for (int f = 0; f < clip.num_frames; ++f) {
    ASSERT_TRUE(writer->write_frame({clip.frame(f), clip.frame_bytes()}).is_ok());
  }
  ASSERT_TRUE(writer->finish().is_ok());
  auto decoded = media::read_mp4(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().to_string();
  ASSERT_EQ(decoded->info.num_frames, clip.num_frames);
  clip.pixels = std::move(decoded->frames);
}

TEST(ClipJudge, EveryCaptionCleanIsJudgedRight) {
  const Tally t = judge_all([](RgbClip&, uint64_t) {}, 1000);
  t.print("clean");
  EXPECT_EQ(t.clips, 372);
  EXPECT_EQ(t.all, t.clips) << t.failures;
}

TEST(ClipJudge, EveryCaptionWithASecondGeometryIsJudgedRight) {
  const Tally t = judge_all([](RgbClip&, uint64_t) {}, 777000);
  t.print("clean, other seeds");
  EXPECT_EQ(t.all, t.clips) << t.failures;
}

TEST(ClipJudge, GaussianNoiseSigma10) {
  const Tally t = judge_all([](RgbClip& clip, uint64_t seed) { add_gaussian_noise(clip, 10.0f, seed); }, 2000);
  t.print("noise sigma 10");
  expect_at_least(t, 98.0);
}

TEST(ClipJudge, GaussianBlurSigma1) {
  const Tally t = judge_all([](RgbClip& clip, uint64_t) { gaussian_blur(clip, 1.0f); }, 3000);
  t.print("blur sigma 1");
  expect_at_least(t, 98.0);
}

TEST(ClipJudge, H264RoundTrip) {
  const Tally t = judge_all(h264_round_trip, 4000);
  t.print("H.264 crf 18");
  expect_at_least(t, 98.0);
}

TEST(ClipJudge, BlurNoiseAndH264Together) {
  const Tally t = judge_all(
      [](RgbClip& clip, uint64_t seed) {
        gaussian_blur(clip, 1.0f);
        add_gaussian_noise(clip, 10.0f, seed);
        h264_round_trip(clip, seed);
      },
      5000);
  t.print("blur+noise+H.264");
  expect_at_least(t, 98.0);
}

TEST(ClipJudge, EmptyClipHasNoObject) {
  const Caption c = *parse_caption("a red circle moving right on a gray background");
  RenderParams p;
  p.size = 16;
  p.start_x = -100;  // wholly outside the frame: nothing is drawn
  RgbClip clip = render_clip(c, p);
  add_gaussian_noise(clip, 10.0f, 7);
  auto v = judge_clip(clip);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->background, PaletteColour::kGray);
  EXPECT_FALSE(v->object_found);
  EXPECT_FALSE(v->colour.has_value());
  EXPECT_FALSE(v->shape.has_value());
  EXPECT_EQ(v->direction, Direction::kNone);
  EXPECT_EQ(describe_verdict(*v), "no object on a gray background");
  const AttributeScores s = score_verdict(*v, c);
  EXPECT_TRUE(s.background);
  EXPECT_FALSE(s.colour);
  EXPECT_FALSE(s.shape);
  EXPECT_FALSE(s.direction);
  EXPECT_FALSE(s.all());
}

TEST(ClipJudge, StaticObjectHasDirectionNone) {
  const Caption c = *parse_caption("a blue square moving up on a white background");
  RenderParams p;
  p.size = 14;
  p.speed = 0;
  auto v = judge_clip(render_clip(c, p));
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->object_found);
  EXPECT_EQ(v->direction, Direction::kNone);
  EXPECT_NEAR(v->displacement_x, 0.0, 1e-9);
  EXPECT_NEAR(v->displacement_y, 0.0, 1e-9);
  EXPECT_EQ(describe_verdict(*v), "a blue square moving none on a white background");
  const AttributeScores s = score_verdict(*v, c);
  EXPECT_TRUE(s.colour && s.shape && s.background);
  EXPECT_FALSE(s.direction);
}

TEST(ClipJudge, MotionBelowAnEighthOfTheFrameIsNone) {
  const Caption c = *parse_caption("a green circle moving left on a black background");
  RenderParams p;
  p.size = 16;
  p.speed = 7.0f / 16;  // 7 px over 16 frame steps: under 64 / 8
  auto v = judge_clip(render_clip(c, p));
  ASSERT_TRUE(v.has_value());
  EXPECT_NEAR(v->displacement_x, -7.0, 0.5);
  EXPECT_EQ(v->direction, Direction::kNone);
  p.speed = 9.0f / 16;  // 9 px: moving
  v = judge_clip(render_clip(c, p));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->direction, Direction::kLeft);
}

TEST(ClipJudge, MeasurementsOfACleanClip) {
  const Caption c = *parse_caption("a yellow square moving down on a brown background");
  RenderParams p;
  p.size = 12;
  p.start_x = 20;
  p.start_y = 12;
  p.speed = 2;
  auto v = judge_clip(render_clip(c, p));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->background_rgb, (Rgb8{165, 42, 42}));
  EXPECT_EQ(v->object_rgb, (Rgb8{255, 255, 0}));
  EXPECT_NEAR(v->background_delta_e, 0.0, 1e-6);
  EXPECT_NEAR(v->colour_delta_e, 0.0, 1e-6);
  EXPECT_DOUBLE_EQ(v->fill_ratio, 1.0);
  EXPECT_NEAR(v->displacement_y, 32.0, 1e-6);  // 2 px x 16 frame steps
  EXPECT_NEAR(v->displacement_x, 0.0, 1e-6);
  EXPECT_NEAR(v->object_fraction, 144.0 / 4096, 1e-9);
  EXPECT_DOUBLE_EQ(v->largest_blob_share, 1.0);
  EXPECT_EQ(v->frames_with_object, kFrames);
}

TEST(ClipJudge, LargestBlobWinsOverADistractor) {
  const Caption c = *parse_caption("a red circle moving right on a black background");
  RenderParams p;
  p.size = 20;
  p.start_x = 16;
  p.start_y = 40;
  p.speed = 2;
  RgbClip clip = render_clip(c, p);
  // A small static red square in the top-right corner region, in every frame.
  for (int f = 0; f < clip.num_frames; ++f) {
    for (int row = 6; row < 11; ++row) {
      for (int col = 50; col < 55; ++col) clip.frame(f)[(row * clip.width + col) * 3] = 255;
    }
  }
  auto v = judge_clip(clip);
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(score_verdict(*v, c).all()) << describe_verdict(*v);
  EXPECT_LT(v->largest_blob_share, 0.95);
  EXPECT_GT(v->largest_blob_share, 0.8);
}

TEST(ClipJudge, RejectsInconsistentOrTinyClips) {
  RgbClip clip{2, 16, 16, std::vector<uint8_t>(100)};
  auto v = judge_clip(clip);
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code(), StatusCode::kInvalidArgument);
  clip = RgbClip{1, 16, 16, std::vector<uint8_t>(16 * 16 * 3)};
  v = judge_clip(clip);
  ASSERT_FALSE(v.has_value());
  EXPECT_NE(v.error().message().find("2 frames"), std::string::npos) << v.error().message();
}

}  // namespace
}  // namespace frugal::video
