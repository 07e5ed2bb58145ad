// The caption grammar of the bundled procedural text-to-video model (video/eval layer):
//   a {colour} {shape} moving {direction} on a {background} background
// its words, their palette (CSS named colours, sRGB), and parsing to / rendering from a struct
// (issue #19). The judge (clip_judge.h) and the reference renderer (clip_render.h) speak it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"

namespace frugal::video {

// Every named colour of the grammar: the eight object colours, then the backgrounds that are not
// also object colours (white is both). Values are the CSS named colours (palette_rgb).
enum class PaletteColour { kRed, kGreen, kBlue, kYellow, kWhite, kOrange, kPurple, kCyan, kBlack, kGray, kBrown };
enum class ShapeKind { kCircle, kSquare, kTriangle };
// Directions as seen on screen: up = towards the top row. kNone is never in a caption; the judge
// returns it for an object that does not move (or is absent).
enum class Direction { kLeft, kRight, kUp, kDown, kNone };

struct Rgb8 {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb8&) const = default;
};

// The words a caption may use in each slot.
inline constexpr std::array<PaletteColour, 8> kObjectColours = {
    PaletteColour::kRed,   PaletteColour::kGreen,  PaletteColour::kBlue,   PaletteColour::kYellow,
    PaletteColour::kWhite, PaletteColour::kOrange, PaletteColour::kPurple, PaletteColour::kCyan};
inline constexpr std::array<PaletteColour, 4> kBackgroundColours = {PaletteColour::kBlack, PaletteColour::kWhite,
                                                                    PaletteColour::kGray, PaletteColour::kBrown};
inline constexpr std::array<ShapeKind, 3> kShapes = {ShapeKind::kCircle, ShapeKind::kSquare, ShapeKind::kTriangle};
inline constexpr std::array<Direction, 4> kMovingDirections = {Direction::kLeft, Direction::kRight, Direction::kUp,
                                                               Direction::kDown};

// One parsed caption. A valid caption has colour in kObjectColours, background in
// kBackgroundColours, colour != background and direction != kNone (parse_caption guarantees it).
struct Caption {
  PaletteColour colour = PaletteColour::kRed;
  ShapeKind shape = ShapeKind::kCircle;
  Direction direction = Direction::kRight;
  PaletteColour background = PaletteColour::kBlack;
  bool operator==(const Caption&) const = default;
};

std::string_view colour_name(PaletteColour colour);    // "red", "gray", ...
std::string_view shape_name(ShapeKind shape);          // "circle", ...
std::string_view direction_name(Direction direction);  // "left", ..., "none"
Rgb8 palette_rgb(PaletteColour colour);                // red {255, 0, 0}, brown {165, 42, 42}, ...

// One word each (lower case, exact). kInvalidArgument naming the word and the valid choices.
Expected<PaletteColour> parse_object_colour(std::string_view word);
Expected<PaletteColour> parse_background_colour(std::string_view word);
Expected<ShapeKind> parse_shape(std::string_view word);
Expected<Direction> parse_direction(std::string_view word);  // the four moving directions only

// Parses a caption of the grammar. Case-insensitive; runs of whitespace and one trailing '.' are
// accepted. kInvalidArgument naming the bad word: an unknown colour / shape / direction /
// background, a fixed word that is wrong ("moves" for "moving"), a wrong word count, or a colour
// equal to its background.
Expected<Caption> parse_caption(std::string_view text);
// The canonical text: "a red circle moving right on a black background".
std::string render_caption(const Caption& caption);

// Every valid caption (8 colours x 3 shapes x 4 directions x 4 backgrounds, minus the 12 with a
// white shape on white: 372), in slot order colour, shape, direction, background.
std::vector<Caption> all_captions();

}  // namespace frugal::video
