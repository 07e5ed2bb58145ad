// Naming a measured colour: sRGB -> CIE L*a*b* (D65) and the nearest palette colour by CIE76
// distance (video/eval layer).
//
// Why Lab and not RGB: Lab is built so that equal distances look about equally different, while
// RGB Euclidean distance overweights differences among bright colours and underweights those among
// dark ones, so "nearest in Lab" is closer to what a person would call the colour of a muddy,
// desaturated generated blob. CIE76 (plain Euclidean Lab) is enough: the closest object-colour
// pair (white and cyan) is 51 units apart and the closest backgrounds (white and gray) 46, far
// beyond the few units where the CIE94 / CIEDE2000 corrections matter.
#pragma once

#include <span>

#include "video/eval/caption.h"

namespace frugal::video {

struct LabColour {
  double l = 0, a = 0, b = 0;  // L* in [0, 100]; a*, b* roughly [-128, 127]
};

// sRGB (IEC 61966-2-1 transfer) -> linear -> XYZ (D65) -> L*a*b* with the D65 white point.
LabColour srgb_to_lab(Rgb8 rgb);
// CIE76 colour difference: Euclidean distance in L*a*b*.
double delta_e76(const LabColour& x, const LabColour& y);

struct ColourMatch {
  PaletteColour colour = PaletteColour::kBlack;
  double delta_e = 0;  // distance to it; ~2.3 is a just-noticeable difference
};

// The candidate nearest to rgb (ties: the earlier candidate). Precondition (CHECKed): candidates
// is not empty.
ColourMatch nearest_palette_colour(Rgb8 rgb, std::span<const PaletteColour> candidates);

}  // namespace frugal::video
