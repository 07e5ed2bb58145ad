// The caption grammar: every valid word parses, the canonical text round-trips, and bad captions
// fail with a message that names the bad word.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "video/eval/caption.h"

namespace frugal::video {
namespace {

void expect_error(const std::string& text, const std::string& needle) {
  auto c = parse_caption(text);
  ASSERT_FALSE(c.has_value()) << text;
  EXPECT_EQ(c.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.error().message().find(needle), std::string::npos) << c.error().message();
}

TEST(Caption, EveryCombinationRoundTrips) {
  const std::vector<Caption> all = all_captions();
  EXPECT_EQ(all.size(), 8u * 3 * 4 * 4 - 3 * 4);  // white on white is excluded
  std::set<std::string> texts;
  for (const Caption& c : all) {
    const std::string text = render_caption(c);
    texts.insert(text);
    auto parsed = parse_caption(text);
    ASSERT_TRUE(parsed.has_value()) << text << ": " << parsed.error().to_string();
    EXPECT_EQ(*parsed, c) << text;
  }
  EXPECT_EQ(texts.size(), all.size());
}

TEST(Caption, ParsesEveryWordIntoItsSlot) {
  auto c = parse_caption("a purple triangle moving up on a brown background");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->colour, PaletteColour::kPurple);
  EXPECT_EQ(c->shape, ShapeKind::kTriangle);
  EXPECT_EQ(c->direction, Direction::kUp);
  EXPECT_EQ(c->background, PaletteColour::kBrown);
  EXPECT_EQ(render_caption(*c), "a purple triangle moving up on a brown background");
  for (const char* word : {"red", "green", "blue", "yellow", "white", "orange", "purple", "cyan"}) {
    auto colour = parse_object_colour(word);
    ASSERT_TRUE(colour.has_value()) << word;
    EXPECT_EQ(colour_name(*colour), word);
  }
  for (const char* word : {"black", "white", "gray", "brown"}) {
    auto colour = parse_background_colour(word);
    ASSERT_TRUE(colour.has_value()) << word;
    EXPECT_EQ(colour_name(*colour), word);
  }
  for (const char* word : {"circle", "square", "triangle"}) EXPECT_TRUE(parse_shape(word).has_value()) << word;
  for (const char* word : {"left", "right", "up", "down"}) EXPECT_TRUE(parse_direction(word).has_value()) << word;
  EXPECT_FALSE(parse_direction("none").has_value());  // the judge's word, never a caption's
}

TEST(Caption, ToleratesCaseSpacesAndAFullStop) {
  auto c = parse_caption("  A Red  CIRCLE moving\tright on a black background. ");
  ASSERT_TRUE(c.has_value()) << c.error().to_string();
  EXPECT_EQ(render_caption(*c), "a red circle moving right on a black background");
}

TEST(Caption, PaletteIsTheCssNamedColours) {
  EXPECT_EQ(palette_rgb(PaletteColour::kRed), (Rgb8{255, 0, 0}));
  EXPECT_EQ(palette_rgb(PaletteColour::kGreen), (Rgb8{0, 128, 0}));
  EXPECT_EQ(palette_rgb(PaletteColour::kBlue), (Rgb8{0, 0, 255}));
  EXPECT_EQ(palette_rgb(PaletteColour::kYellow), (Rgb8{255, 255, 0}));
  EXPECT_EQ(palette_rgb(PaletteColour::kWhite), (Rgb8{255, 255, 255}));
  EXPECT_EQ(palette_rgb(PaletteColour::kOrange), (Rgb8{255, 165, 0}));
  EXPECT_EQ(palette_rgb(PaletteColour::kPurple), (Rgb8{128, 0, 128}));
  EXPECT_EQ(palette_rgb(PaletteColour::kCyan), (Rgb8{0, 255, 255}));
  EXPECT_EQ(palette_rgb(PaletteColour::kBlack), (Rgb8{0, 0, 0}));
  EXPECT_EQ(palette_rgb(PaletteColour::kGray), (Rgb8{128, 128, 128}));
  EXPECT_EQ(palette_rgb(PaletteColour::kBrown), (Rgb8{165, 42, 42}));
}

TEST(Caption, UnknownWordsAreNamed) {
  expect_error("a pink circle moving right on a black background", "unknown colour \"pink\"");
  expect_error("a red hexagon moving right on a black background", "unknown shape \"hexagon\"");
  expect_error("a red circle moving sideways on a black background", "unknown direction \"sideways\"");
  expect_error("a red circle moving right on a blue background", "unknown background \"blue\"");
  expect_error("a brown circle moving right on a black background", "unknown colour \"brown\"");
  expect_error("a red circle moving none on a black background", "unknown direction \"none\"");
  // The message lists the valid choices.
  expect_error("a pink circle moving right on a black background", "red, green, blue, yellow, white, orange, purple, cyan");
}

TEST(Caption, ColourEqualToBackgroundIsRejected) {
  expect_error("a white square moving left on a white background", "colour \"white\" is the same as the background");
}

TEST(Caption, MalformedCaptionsAreRejected) {
  expect_error("", "9 words, got 0");
  expect_error("a red circle", "9 words, got 3");
  expect_error("a red circle moving right on a black background now", "9 words, got 10");
  expect_error("a red circle moves right on a black background", "word 4 is \"moves\", expected \"moving\"");
  expect_error("the red circle moving right on a black background", "word 1 is \"the\", expected \"a\"");
  expect_error("a red circle moving right in a black background", "word 6 is \"in\", expected \"on\"");
  expect_error("a red circle moving right on a black backdrop", "word 9 is \"backdrop\"");
}

}  // namespace
}  // namespace frugal::video
