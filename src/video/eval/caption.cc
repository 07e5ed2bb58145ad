// The caption grammar: names, palette, parsing and rendering.
#include "video/eval/caption.h"

#include <cctype>
#include <utility>

namespace frugal::video {
namespace {

struct ColourEntry {
  PaletteColour colour;
  std::string_view name;
  Rgb8 rgb;
};

// CSS named colours (CSS Color Module Level 4, §6.1).
constexpr ColourEntry kPalette[] = {
    {PaletteColour::kRed, "red", {255, 0, 0}},         {PaletteColour::kGreen, "green", {0, 128, 0}},
    {PaletteColour::kBlue, "blue", {0, 0, 255}},       {PaletteColour::kYellow, "yellow", {255, 255, 0}},
    {PaletteColour::kWhite, "white", {255, 255, 255}}, {PaletteColour::kOrange, "orange", {255, 165, 0}},
    {PaletteColour::kPurple, "purple", {128, 0, 128}}, {PaletteColour::kCyan, "cyan", {0, 255, 255}},
    {PaletteColour::kBlack, "black", {0, 0, 0}},       {PaletteColour::kGray, "gray", {128, 128, 128}},
    {PaletteColour::kBrown, "brown", {165, 42, 42}},
};

constexpr std::string_view kShapeNames[] = {"circle", "square", "triangle"};
constexpr std::string_view kDirectionNames[] = {"left", "right", "up", "down", "none"};

const ColourEntry& entry(PaletteColour colour) { return kPalette[static_cast<int>(colour)]; }

template <typename T, size_t N>
std::string choices(const std::array<T, N>& values, std::string_view (*name)(T)) {
  std::string out;
  for (T v : values) out += (out.empty() ? "" : ", ") + std::string(name(v));
  return out;
}

template <typename T, size_t N>
Expected<T> parse_word(std::string_view word, const std::array<T, N>& values, std::string_view (*name)(T),
                       std::string_view slot) {
  for (T v : values) {
    if (name(v) == word) return v;
  }
  return invalid_argument("unknown " + std::string(slot) + " \"" + std::string(word) + "\" (expected one of " +
                          choices(values, name) + ")");
}

// Lower-cased words split on whitespace, one trailing '.' dropped.
std::vector<std::string> split_words(std::string_view text) {
  std::string lowered;
  for (char c : text) lowered += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!lowered.empty() && std::isspace(static_cast<unsigned char>(lowered.back()))) lowered.pop_back();
  if (!lowered.empty() && lowered.back() == '.') lowered.pop_back();
  std::vector<std::string> words;
  std::string current;
  for (char c : lowered) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!current.empty()) words.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

constexpr std::string_view kGrammar = "a {colour} {shape} moving {direction} on a {background} background";

}  // namespace

std::string_view colour_name(PaletteColour colour) { return entry(colour).name; }
std::string_view shape_name(ShapeKind shape) { return kShapeNames[static_cast<int>(shape)]; }
std::string_view direction_name(Direction direction) { return kDirectionNames[static_cast<int>(direction)]; }
Rgb8 palette_rgb(PaletteColour colour) { return entry(colour).rgb; }

Expected<PaletteColour> parse_object_colour(std::string_view word) {
  return parse_word(word, kObjectColours, colour_name, "colour");
}
Expected<PaletteColour> parse_background_colour(std::string_view word) {
  return parse_word(word, kBackgroundColours, colour_name, "background");
}
Expected<ShapeKind> parse_shape(std::string_view word) { return parse_word(word, kShapes, shape_name, "shape"); }
Expected<Direction> parse_direction(std::string_view word) {
  return parse_word(word, kMovingDirections, direction_name, "direction");
}

Expected<Caption> parse_caption(std::string_view text) {
  const std::vector<std::string> words = split_words(text);
  const std::string context = " in \"" + std::string(text) + "\" (grammar: " + std::string(kGrammar) + ")";
  if (words.size() != 9) {
    return invalid_argument("a caption has 9 words, got " + std::to_string(words.size()) + context);
  }
  // The fixed words, by position: a _ _ moving _ on a _ background.
  constexpr std::pair<size_t, std::string_view> kFixed[] = {{0, "a"}, {3, "moving"}, {5, "on"}, {6, "a"}, {8, "background"}};
  for (const auto& [idx, expected] : kFixed) {
    if (words[idx] != expected) {
      return invalid_argument("word " + std::to_string(idx + 1) + " is \"" + words[idx] + "\", expected \"" +
                              std::string(expected) + "\"" + context);
    }
  }
  Caption c;
  auto colour = parse_object_colour(words[1]);
  if (!colour) return invalid_argument(colour.error().message() + context);
  auto shape = parse_shape(words[2]);
  if (!shape) return invalid_argument(shape.error().message() + context);
  auto direction = parse_direction(words[4]);
  if (!direction) return invalid_argument(direction.error().message() + context);
  auto background = parse_background_colour(words[7]);
  if (!background) return invalid_argument(background.error().message() + context);
  if (*colour == *background) {
    return invalid_argument("colour \"" + words[1] + "\" is the same as the background" + context);
  }
  c.colour = *colour;
  c.shape = *shape;
  c.direction = *direction;
  c.background = *background;
  return c;
}

std::string render_caption(const Caption& c) {
  return "a " + std::string(colour_name(c.colour)) + " " + std::string(shape_name(c.shape)) + " moving " +
         std::string(direction_name(c.direction)) + " on a " + std::string(colour_name(c.background)) + " background";
}

std::vector<Caption> all_captions() {
  std::vector<Caption> out;
  for (PaletteColour colour : kObjectColours) {
    for (ShapeKind shape : kShapes) {
      for (Direction direction : kMovingDirections) {
        for (PaletteColour background : kBackgroundColours) {
          if (colour != background) out.push_back({colour, shape, direction, background});
        }
      }
    }
  }
  return out;
}

}  // namespace frugal::video
