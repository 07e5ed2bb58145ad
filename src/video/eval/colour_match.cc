// sRGB -> Lab and nearest palette colour.
#include "video/eval/colour_match.h"

#include <cmath>

#include "core/check.h"

namespace frugal::video {
namespace {

double srgb_to_linear(uint8_t v) {
  const double c = v / 255.0;
  return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

// The CIE Lab companding function f(t), linear below (6/29)^3.
double lab_f(double t) {
  constexpr double kDelta = 6.0 / 29.0;
  return t > kDelta * kDelta * kDelta ? std::cbrt(t) : t / (3 * kDelta * kDelta) + 4.0 / 29.0;
}

}  // namespace

LabColour srgb_to_lab(Rgb8 rgb) {
  const double r = srgb_to_linear(rgb.r), g = srgb_to_linear(rgb.g), b = srgb_to_linear(rgb.b);
  // sRGB primaries to XYZ (D65), IEC 61966-2-1.
  const double x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
  const double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  const double z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
  // D65 reference white.
  const double fx = lab_f(x / 0.95047), fy = lab_f(y / 1.0), fz = lab_f(z / 1.08883);
  return {116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)};
}

double delta_e76(const LabColour& x, const LabColour& y) {
  const double dl = x.l - y.l, da = x.a - y.a, db = x.b - y.b;
  return std::sqrt(dl * dl + da * da + db * db);
}

ColourMatch nearest_palette_colour(Rgb8 rgb, std::span<const PaletteColour> candidates) {
  CHECK(!candidates.empty(), "nearest_palette_colour: no candidates");
  const LabColour lab = srgb_to_lab(rgb);
  ColourMatch best{candidates[0], delta_e76(lab, srgb_to_lab(palette_rgb(candidates[0])))};
  for (PaletteColour c : candidates.subspan(1)) {
    const double d = delta_e76(lab, srgb_to_lab(palette_rgb(c)));
    if (d < best.delta_e) best = {c, d};
  }
  return best;
}

}  // namespace frugal::video
