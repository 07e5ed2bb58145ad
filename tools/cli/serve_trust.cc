#include "serve_trust.h"

#include <chrono>

#include "trust/classifier_check.h"
#include "trust/pdq_check.h"

namespace frugal::cli {

void add_serve_trust_flags(CLI::App& cmd, ServeTrustFlags& flags) {
  cmd.add_option("--pdq-hash-list", flags.pdq_hash_list,
                 "PDQ hashes (64 hex digits per line) of content to hold: a video with a matching frame waits for a "
                 "reviewer");
  cmd.add_option("--pdq-max-distance", flags.pdq_max_distance, "Hamming distance (bits of 256) that still matches")
      ->check(CLI::Range(0, 128))
      ->capture_default_str();
  cmd.add_option("--pdq-min-quality", flags.pdq_min_quality, "Frames below this PDQ quality are not matched")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  cmd.add_option("--classifier-command", flags.classifier_command,
                 "Operator classifier run on each video's sampled frames (PNG folder as last argument): exit 0 "
                 "passes, 1 holds for review, anything else holds as a failed check");
  cmd.add_option("--classifier-timeout", flags.classifier_timeout_s, "Seconds the classifier may take per video")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--check-every-frames", flags.check_every_frames, "The checks see frames 0, K, 2K, ...")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_flag("--check-watermark,!--no-check-watermark", flags.check_watermark,
               "Read each finished video's watermark back before release (default on); a video whose mark is missing "
               "or not its job's fails the job (watermark_failed) and is never stored");
  cmd.add_option("--watermark-check-min-side", flags.watermark_check_min_side,
                 "Videos whose short side is under this many pixels are released without the read-back (busy small "
                 "clips are not read reliably)")
      ->check(CLI::Range(32, 4096))
      ->capture_default_str();
  cmd.add_option("--reviewer-key-file", flags.reviewer_key_file,
                 "Keys of the human review routes (/v1/review/...), one per line; API keys get 403 there");
}

bool has_post_checks(const ServeTrustFlags& flags) {
  return !flags.pdq_hash_list.empty() || !flags.classifier_command.empty();
}

Expected<trust::PostChecks> make_post_checks(const ServeTrustFlags& flags) {
  trust::PostChecks checks;
  if (!flags.pdq_hash_list.empty()) {
    auto list = trust::PdqHashList::load(flags.pdq_hash_list);
    if (!list) return Status(list.error().code(), "--pdq-hash-list: " + list.error().message());
    checks.push_back(std::make_unique<trust::PdqHashListCheck>(
        std::move(*list), trust::PdqCheckOptions{flags.pdq_max_distance, flags.pdq_min_quality}));
  }
  if (!flags.classifier_command.empty()) {
    const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.classifier_timeout_s * 1000));
    checks.push_back(std::make_unique<trust::ClassifierCommandCheck>(flags.classifier_command, timeout));
  }
  return checks;
}

}  // namespace frugal::cli
