#include "trust/pdq_check.h"

namespace frugal::trust {

Expected<CheckOutcome> PdqHashListCheck::run(const PostCheckInput& input) const {
  CheckOutcome outcome;
  outcome.check = name();
  int hashed = 0, skipped = 0;
  std::string matches;
  for (const SampledFrame& frame : input.frames) {
    const media::RgbImage& image = frame.image;
    auto pdq = pdq_hash_rgb(image.pixels.data(), image.width, image.height, image.pixels.size());
    if (!pdq) return pdq.error();
    if (pdq->quality < options_.min_quality) {
      ++skipped;
      continue;
    }
    ++hashed;
    if (auto match = list_.nearest(pdq->hash, options_.max_distance)) {
      outcome.hold = true;
      if (!matches.empty()) matches += "; ";
      matches += "frame " + std::to_string(frame.index) + " (" + pdq->hash.to_hex() + ") matches '" + match->label +
                 "' at distance " + std::to_string(match->distance);
    }
  }
  outcome.detail = std::to_string(hashed) + " frame(s) hashed, " + std::to_string(skipped) + " below quality " +
                   std::to_string(options_.min_quality) + ", threshold " + std::to_string(options_.max_distance) +
                   " bits: " + (matches.empty() ? "no match" : matches);
  return outcome;
}

}  // namespace frugal::trust
