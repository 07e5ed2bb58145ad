// The post-generation checks and human review flags of `frugal serve` (tools layer;
// docs/design/trust-review.md):
//   --pdq-hash-list FILE          operator PDQ hashes (trust/hash_list.h); a matching frame holds the video
//   --pdq-max-distance N          Hamming bits of 256 that still match (default 31)
//   --pdq-min-quality N           frames of lower PDQ quality are not matched (default 50)
//   --classifier-command CMD      the operator's classifier (trust/classifier_check.h)
//   --classifier-timeout S        seconds it may take per video (default 60)
//   --check-every-frames K        the checks see frames 0, K, 2K, ... (default 8)
//   --reviewer-key-file FILE      the keys of the /v1/review/ routes, one per line (not API keys)
//   --no-check-watermark          skip the read-back of each video's watermark before release (on by
//                                 default: a failed read-back fails the job, it is not held)
//   --watermark-check-min-side N  short side under which videos are released without the read-back (256)
// Any check needs reviewer keys (a held video nobody can review would be lost); a malformed hash
// list or key file stops the start with the file and line.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/expected.h"
#include "trust/post_check.h"

namespace frugal::cli {

struct ServeTrustFlags {
  std::string pdq_hash_list;
  int pdq_max_distance = 31;
  int pdq_min_quality = 50;
  std::string classifier_command;
  double classifier_timeout_s = 60;
  int64_t check_every_frames = 8;
  std::string reviewer_key_file;
  // The watermark read-back before release (trust/watermark_check.h; jobs::VideoServiceOptions):
  // on by default, --no-check-watermark turns it off; a failed read-back fails the job.
  bool check_watermark = true;
  int watermark_check_min_side = 256;
};

void add_serve_trust_flags(CLI::App& cmd, ServeTrustFlags& flags);
// The configured checks (empty when none); errors name the flag.
Expected<trust::PostChecks> make_post_checks(const ServeTrustFlags& flags);
// True when any check is configured.
bool has_post_checks(const ServeTrustFlags& flags);

}  // namespace frugal::cli
