// The clip judge: what a generated clip of the caption grammar shows, measured from its pixels
// (video/eval layer). Tests and benchmarks score a text-to-video model with it (issue #19 item 4).
//
// The central idea: the background is the plain colour at the frame's border; the object is what
// differs from it; its colour, shape and motion are then simple statistics of that pixel set.
//   background  per-channel median of the border ring (the outer kBorderWidth rows and columns of
//               every frame), named by the nearest background colour in Lab (colour_match.h).
//   object      pixels far (RGB distance) from the measured background, per frame; the largest
//               8-connected blob is the object, so specks of noise and stray artefacts are ignored
//               (a clip with several real blobs is judged by its largest one). Its colour is the
//               per-channel median of the blob pixels farthest from the background (the core, not
//               the antialiased rim), named by the nearest object colour in Lab.
//   shape       re-segmented at half contrast (a pixel is object when it lies at least halfway from
//               the background colour to the object colour, which puts the boundary where the shape
//               edge is, blurred or not); the bounding-box fill ratio, median over frames, decides,
//               helped by two blur-proof moments of the contrast map where fills overlap: skew
//               (a triangle's mass piles towards its base) and kurtosis (square vs disc).
//   direction   a least-squares line through the blob's centroid over the frames; its displacement
//               over the clip must reach 1/8 of the frame along the dominant axis, else kNone.
#pragma once

#include <optional>
#include <string>

#include "core/expected.h"
#include "video/eval/caption.h"
#include "video/eval/rgb_clip.h"

namespace frugal::video {

struct ClipVerdict {
  // Background.
  PaletteColour background = PaletteColour::kBlack;
  Rgb8 background_rgb;              // measured: median of the border ring
  double background_delta_e = 0;    // Lab distance from background_rgb to the named colour

  // Object. When it is not found (absent in more than half the frames) colour and shape are empty
  // and direction is kNone.
  bool object_found = false;
  int frames_with_object = 0;
  std::optional<PaletteColour> colour;
  Rgb8 object_rgb;                  // measured: median of the object's core pixels
  double colour_delta_e = 0;        // Lab distance from object_rgb to the named colour
  std::optional<ShapeKind> shape;
  double fill_ratio = 0;            // median over frames of blob area / bounding-box area
  double skew = 0;                  // median over frames; triangle ~0.021, disc and square ~0
  double kurtosis = 0;              // median over frames; square ~-0.0083, disc ~-0.0063

  Direction direction = Direction::kNone;
  double displacement_x = 0;        // pixels over the whole clip from the centroid fit; + = right
  double displacement_y = 0;        // pixels; + = down (towards the last row)

  double object_fraction = 0;       // mean share of frame pixels that are object (all blobs)
  double largest_blob_share = 0;    // largest-blob pixels / all object pixels: 1 = one clean blob
};

// Per-attribute agreement with the caption a clip was generated from. A missing object is wrong
// for colour, shape and direction; a static one is wrong for direction.
struct AttributeScores {
  bool colour = false;
  bool shape = false;
  bool direction = false;
  bool background = false;

  bool all() const { return colour && shape && direction && background; }
};

// Judges clip [F, H, W, 3]. kInvalidArgument when the clip is inconsistent (sizes vs pixels) or
// smaller than 8x8 pixels or 2 frames (nothing can be said about shape or motion).
Expected<ClipVerdict> judge_clip(const RgbClip& clip);

AttributeScores score_verdict(const ClipVerdict& verdict, const Caption& expected);

// "a red circle moving right on a black background"; "?" stands in a slot the judge left empty,
// "none" for no motion, and a clip without an object reads "no object on a black background".
std::string describe_verdict(const ClipVerdict& verdict);

}  // namespace frugal::video
