// The reference renderer and its helpers: geometry within the data's bounds, exact colours,
// deterministic seeds, the ideal fill ratios of the three shapes, Lab naming of the palette.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "video/eval/clip_degrade.h"
#include "video/eval/clip_render.h"
#include "video/eval/colour_match.h"
#include "video/eval/frame_blobs.h"

namespace frugal::video {
namespace {

const uint8_t* pixel(const RgbClip& clip, int frame, int row, int col) {
  return clip.frame(frame) + (static_cast<size_t>(row) * clip.width + col) * 3;
}

TEST(ClipRender, DrawsTheShapeColourOverTheBackground) {
  const Caption c = *parse_caption("a orange circle moving right on a gray background");
  RenderParams p;
  p.start_x = 20;
  p.start_y = 30;
  p.size = 16;
  p.speed = 1.5f;
  const RgbClip clip = render_clip(c, p);
  ASSERT_TRUE(clip.is_consistent());
  EXPECT_EQ(clip.num_frames, 17);
  const uint8_t* centre = pixel(clip, 0, 30, 20);
  EXPECT_EQ(centre[0], 255);
  EXPECT_EQ(centre[1], 165);
  EXPECT_EQ(centre[2], 0);
  const uint8_t* moved = pixel(clip, 16, 30, 44);  // 20 + 1.5 x 16
  EXPECT_EQ(moved[1], 165);
  const uint8_t* corner = pixel(clip, 0, 0, 0);
  EXPECT_EQ(corner[0], 128);
  EXPECT_EQ(corner[1], 128);
  EXPECT_EQ(corner[2], 128);
}

TEST(ClipRender, RandomGeometryStaysInsideAndTravelsAQuarterFrame) {
  for (const Caption& c : all_captions()) {
    for (uint64_t seed = 0; seed < 4; ++seed) {
      const RenderParams p = random_render_params(c, 64, 64, 17, seed);
      EXPECT_GE(p.size, 0.15f * 64 - 1e-4f);
      EXPECT_LE(p.size, 0.35f * 64 + 1e-4f);
      EXPECT_GE(p.speed * 16, 0.25f * 64 - 1e-3f) << render_caption(c);
      for (int f : {0, 16}) {
        const bool horizontal = c.direction == Direction::kLeft || c.direction == Direction::kRight;
        const float sign = (c.direction == Direction::kLeft || c.direction == Direction::kUp) ? -1.0f : 1.0f;
        const float x = p.start_x + (horizontal ? sign * p.speed * f : 0.0f);
        const float y = p.start_y + (horizontal ? 0.0f : sign * p.speed * f);
        EXPECT_GE(x - p.size / 2, -1e-3f);
        EXPECT_LE(x + p.size / 2, 64 + 1e-3f);
        EXPECT_GE(y - p.size / 2, -1e-3f);
        EXPECT_LE(y + p.size / 2, 64 + 1e-3f);
      }
    }
  }
}

TEST(ClipRender, SameSeedSameClip) {
  const Caption c = *parse_caption("a cyan triangle moving up on a black background");
  const RenderParams a = random_render_params(c, 64, 64, 17, 42);
  const RenderParams b = random_render_params(c, 64, 64, 17, 42);
  RgbClip x = render_clip(c, a), y = render_clip(c, b);
  EXPECT_EQ(x.pixels, y.pixels);
  add_gaussian_noise(x, 10, 3);
  add_gaussian_noise(y, 10, 3);
  EXPECT_EQ(x.pixels, y.pixels);
  const RenderParams other = random_render_params(c, 64, 64, 17, 43);
  EXPECT_NE(other.start_x, a.start_x);
}

TEST(ClipRender, LargeShapesHaveTheirIdealFillRatios) {
  // At 48 px the pixel grid barely matters: square 1, disc pi/4, triangle 1/2, and the
  // triangle's centroid sits 1/6 of its box below the box centre (apex up).
  struct Case {
    const char* caption;
    double fill, asymmetry;
  };
  const Case cases[] = {{"a red square moving up on a black background", 1.0, 0.0},
                        {"a red circle moving up on a black background", std::numbers::pi / 4, 0.0},
                        {"a red triangle moving up on a black background", 0.5, 1.0 / 6}};
  for (const Case& tc : cases) {
    RenderParams p;
    p.size = 48;
    p.speed = 0;
    const RgbClip clip = render_clip(*parse_caption(tc.caption), p);
    std::vector<uint8_t> mask(64 * 64);
    for (size_t i = 0; i < mask.size(); ++i) mask[i] = clip.frame(0)[3 * i] >= 128 ? 1 : 0;
    const Blob blob = largest_blob(mask, 64, 64);
    EXPECT_NEAR(blob.fill_ratio(), tc.fill, 0.02) << tc.caption;
    const double box_centre_y = (blob.min_row + blob.max_row + 1) * 0.5;
    EXPECT_NEAR((blob.centroid_y - box_centre_y) / blob.box_height(), tc.asymmetry, 0.01) << tc.caption;
  }
}

TEST(ClipDegrade, NoiseHasTheRequestedSigmaAndBlurKeepsTheMean) {
  const Caption c = *parse_caption("a red square moving up on a gray background");
  RenderParams p;
  p.start_x = -100;  // background only
  RgbClip clip = render_clip(c, p);
  add_gaussian_noise(clip, 10, 1);
  double sum = 0, sum2 = 0;
  for (uint8_t v : clip.pixels) {
    sum += v - 128.0;
    sum2 += (v - 128.0) * (v - 128.0);
  }
  const double n = static_cast<double>(clip.pixels.size());
  EXPECT_NEAR(sum / n, 0.0, 0.2);
  EXPECT_NEAR(std::sqrt(sum2 / n), 10.0, 0.2);
  gaussian_blur(clip, 1.0f);
  double blurred2 = 0;
  for (uint8_t v : clip.pixels) blurred2 += (v - 128.0) * (v - 128.0);
  EXPECT_LT(std::sqrt(blurred2 / n), 4.0);  // a sigma-1 Gaussian averages ~12 pixels' worth of noise
}

TEST(FrameBlobs, LargestEightConnectedComponent) {
  // 6x6: a diagonal chain of 3 (one 8-connected blob) and a 2x1 bar.
  const std::vector<uint8_t> mask = {1, 0, 0, 0, 1, 1,  //
                                     0, 1, 0, 0, 0, 0,  //
                                     0, 0, 1, 0, 0, 0,  //
                                     0, 0, 0, 0, 0, 0,  //
                                     0, 0, 0, 0, 0, 0,  //
                                     0, 0, 0, 0, 0, 0};
  std::vector<uint8_t> members;
  const Blob blob = largest_blob(mask, 6, 6, &members);
  EXPECT_EQ(blob.area, 3);
  EXPECT_EQ(blob.min_col, 0);
  EXPECT_EQ(blob.max_col, 2);
  EXPECT_DOUBLE_EQ(blob.centroid_x, 1.5);
  EXPECT_DOUBLE_EQ(blob.centroid_y, 1.5);
  EXPECT_DOUBLE_EQ(blob.fill_ratio(), 3.0 / 9);
  EXPECT_TRUE(blob.touches_edge);
  EXPECT_EQ(members[0], 1);
  EXPECT_EQ(members[4], 0);
  EXPECT_EQ(largest_blob(std::vector<uint8_t>(36, 0), 6, 6).area, 0);
}

TEST(ColourMatch, PaletteColoursNameThemselvesAndNearbyShadesTheirNeighbour) {
  for (PaletteColour c : kObjectColours) {
    const ColourMatch m = nearest_palette_colour(palette_rgb(c), kObjectColours);
    EXPECT_EQ(m.colour, c);
    EXPECT_NEAR(m.delta_e, 0.0, 1e-9);
  }
  // Lab of sRGB red (the textbook value: 53.24, 80.09, 67.20).
  const LabColour red = srgb_to_lab({255, 0, 0});
  EXPECT_NEAR(red.l, 53.24, 0.05);
  EXPECT_NEAR(red.a, 80.09, 0.05);
  EXPECT_NEAR(red.b, 67.20, 0.05);
  // A dull, darkish generated red is still red; a yellowish orange is orange; a dark gray background is gray.
  EXPECT_EQ(nearest_palette_colour({190, 40, 30}, kObjectColours).colour, PaletteColour::kRed);
  EXPECT_EQ(nearest_palette_colour({240, 180, 20}, kObjectColours).colour, PaletteColour::kOrange);
  EXPECT_EQ(nearest_palette_colour({100, 100, 100}, kBackgroundColours).colour, PaletteColour::kGray);
  EXPECT_EQ(nearest_palette_colour({140, 50, 40}, kBackgroundColours).colour, PaletteColour::kBrown);
}

}  // namespace
}  // namespace frugal::video
