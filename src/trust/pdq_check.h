// PdqHashListCheck: holds a video when a sampled frame's PDQ hash is within the threshold of an
// entry of the operator's hash list (trust layer). Frames whose PDQ quality is below
// `min_quality` (featureless: flat colour, near-black) are not matched — their hashes are noise —
// and are reported as skipped.
#pragma once

#include "trust/hash_list.h"
#include "trust/post_check.h"

namespace frugal::trust {

struct PdqCheckOptions {
  int max_distance = 31;  // bits of 256, inclusive: Meta's recommended match threshold
  int min_quality = 50;   // Meta: discard hashes of quality ≤ 49
};

class PdqHashListCheck final : public PostCheck {
 public:
  PdqHashListCheck(PdqHashList list, PdqCheckOptions options) : list_(std::move(list)), options_(options) {}
  std::string name() const override { return "pdq_hash_list"; }
  Expected<CheckOutcome> run(const PostCheckInput& input) const override;

 private:
  PdqHashList list_;
  PdqCheckOptions options_;
};

}  // namespace frugal::trust
