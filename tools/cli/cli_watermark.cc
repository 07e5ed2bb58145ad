// `frugal watermark detect|embed`: read back (or add) the invisible luma watermark of
// docs/design/trust-watermark.md. detect decodes a video, reads its frames and prints the payload,
// the per-bit confidence and a verdict at a stated false-positive rate; exit status 0 = marked,
// 3 = not marked (with this key), 1 / 2 = error. With --job-id the verdict (and the exit status) is
// the known-payload test's: "this video carries this job's mark", at the same rate.
// embed marks an existing video (the benchmark's source clips; generated videos are marked by
// `frugal video` and the video service themselves).
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli_common.h"
#include "media/mp4_reader.h"
#include "media/mp4_writer.h"
#include "trust/watermark_detect.h"
#include "trust/watermark_embed.h"
#include "trust/watermark_key.h"

namespace frugal::cli {
namespace {

constexpr int kExitNotMarked = 3;

struct DetectArgs {
  std::string path, key_path, job_id;
  double fpr = 1e-6;
  int64_t max_frames = 600;
  bool json = false, verbose = false, mean_only = false;
};

struct EmbedArgs {
  std::string in_path, out_path, key_path, job_id = "frugal-watermark-embed";
  double strength = trust::WatermarkEmbedOptions{}.strength;
  bool activity_mask = trust::WatermarkEmbedOptions{}.activity_mask;
  int crf = 18;
  int grid = 0;
  double mask_boost = trust::WatermarkEmbedOptions{}.mask_boost;
  double luminance_masking = trust::WatermarkEmbedOptions{}.luminance_masking;
  double mask_flat = trust::WatermarkEmbedOptions{}.mask_flat;
  bool lift_weak_bits = trust::WatermarkEmbedOptions{}.lift_weak_bits;
  double weak_bit_z = trust::WatermarkEmbedOptions{}.weak_bit_z;
  double max_lift = trust::WatermarkEmbedOptions{}.max_lift;
  bool copy = false;
};

// Φ(|z|): the probability a bit read with confidence |z| is right if z is Gaussian around its mean.
double bit_confidence(double z) { return 0.5 * std::erfc(-std::fabs(z) / std::sqrt(2.0)); }

Expected<trust::WatermarkKey> key_for(const std::string& flag_path, bool create) {
  const std::string path = flag_path.empty() ? trust::default_watermark_key_path() : flag_path;
  if (!create) return trust::load_watermark_key(path);
  bool created = false;
  auto key = trust::load_or_create_watermark_key(path, &created);
  if (key && created) std::fprintf(stderr, "frugal: created a new watermark key in %s (keep it: detection needs it)\n", path.c_str());
  return key;
}

void print_detection(const DetectArgs& args, const trust::WatermarkDetection& d, std::optional<uint64_t> expected) {
  const int errors = expected ? trust::watermark_bit_errors(d, *expected) : -1;
  if (args.json) {
    std::printf("{\"file\":\"%s\",\"detected\":%s,\"payload\":\"%s\",\"statistic\":%.3f,\"threshold\":%.3f,"
                "\"bits_seen\":%d,\"log10_p_value\":%.3f,\"false_positive_rate\":%g,\"hypotheses\":%d,\"grid\":%d,"
                "\"window\":[%.4f,%.4f,%.4f],\"frames\":%lld,\"frames_weighted\":%lld,\"mean_abs_z\":%.3f,\"min_abs_z\":%.3f",
                args.path.c_str(), d.detected ? "true" : "false", trust::payload_hex(d.payload).c_str(), d.statistic,
                d.threshold, d.bits_seen, d.log10_p_value, d.false_positive_rate, d.hypotheses, d.grid, d.window_x,
                d.window_y, d.window_scale, static_cast<long long>(d.frames), static_cast<long long>(d.frames_weighted),
                d.mean_abs_z, d.min_abs_z);
    if (expected) std::printf(",\"expected_payload\":\"%s\",\"bit_errors\":%d", trust::payload_hex(*expected).c_str(), errors);
    if (d.payload_test) {
      const trust::WatermarkPayloadTest& t = *d.payload_test;
      std::printf(",\"job_match\":%s,\"job_statistic\":%.3f,\"job_threshold\":%.3f,\"job_log10_p_value\":%.3f,"
                  "\"job_agreeing_bits\":%d",
                  t.matches ? "true" : "false", t.statistic, t.threshold, t.log10_p_value, t.agreeing_bits);
    }
    std::printf(",\"bit_z\":[");
    for (int bit = 0; bit < trust::kWatermarkBits; ++bit) std::printf("%s%.3f", bit ? "," : "", d.bit_z[bit]);
    std::printf("]}\n");
    return;
  }
  std::printf("file:        %s (%lld frames read)\n", args.path.c_str(), static_cast<long long>(d.frames));
  std::printf("verdict:     %s\n", d.detected ? "WATERMARKED (with this key)" : "not watermarked with this key");
  std::printf("statistic:   T = %.1f over %d bits; threshold %.1f for a false-positive rate <= %g over %d alignments\n",
              d.statistic, d.bits_seen, d.threshold, d.false_positive_rate, d.hypotheses);
  std::printf("p-value:     <= 10^%.1f (chi-square Chernoff bound x alignments; see docs/design/trust-watermark.md)\n",
              d.log10_p_value);
  std::printf("payload:     %s%s\n", trust::payload_hex(d.payload).c_str(), d.detected ? "" : " (meaningless: not detected)");
  std::printf("bits:        mean |z| %.2f, min |z| %.2f (confidence of the weakest bit %.4f); %s\n", d.mean_abs_z, d.min_abs_z,
              bit_confidence(d.min_abs_z),
              d.frames_weighted > 0 ? ("re-read frame by frame, " + std::to_string(d.frames_weighted) + " frames weighted").c_str()
                                    : "read from the mean picture");
  std::printf("alignment:   %dx%d lattice, window %.3f at (%.3f, %.3f)\n", d.grid, d.grid, d.window_scale, d.window_x,
              d.window_y);
  if (expected) {
    std::printf("expected:    %s for job id \"%s\": %d of 64 bits differ (bit accuracy %.1f %%)\n",
                trust::payload_hex(*expected).c_str(), args.job_id.c_str(), errors, 100.0 * (64 - errors) / 64);
  }
  if (d.payload_test) {
    const trust::WatermarkPayloadTest& t = *d.payload_test;
    std::printf("job test:    %s: J = %.2f, threshold %.2f for a false-positive rate <= %g; p-value <= 10^%.1f "
                "(%d of %d bits agree)\n",
                t.matches ? "THIS JOB'S MARK" : "not this job's mark", t.statistic, t.threshold, d.false_positive_rate,
                t.log10_p_value, t.agreeing_bits, d.bits_seen);
  }
  if (args.verbose) {
    for (int bit = 0; bit < trust::kWatermarkBits; ++bit) {
      std::printf("bit %2d: %d  z %+7.2f  confidence %.4f\n", bit, d.bit_z[bit] > 0 ? 1 : 0, d.bit_z[bit], bit_confidence(d.bit_z[bit]));
    }
  }
}

int run_detect(const DetectArgs& args) {
  auto key = key_for(args.key_path, false);
  if (!key) return report_error(key.error());
  trust::WatermarkDetectOptions options;
  options.false_positive_rate = args.fpr;
  std::optional<uint64_t> expected;
  if (!args.job_id.empty()) expected = trust::watermark_payload_for(*key, args.job_id);
  options.expected_payload = expected;
  options.combine_frames = !args.mean_only;
  auto detection = trust::detect_watermark_in_file(*key, args.path, args.max_frames, options);
  if (!detection) return report_error(detection.error());
  print_detection(args, *detection, expected);
  if (detection->payload_test) return detection->payload_test->matches ? 0 : kExitNotMarked;
  return detection->detected ? 0 : kExitNotMarked;
}

int run_embed(const EmbedArgs& args) {
  auto key = key_for(args.key_path, true);
  if (!key) return report_error(key.error());
  const uint64_t payload = trust::watermark_payload_for(*key, args.job_id);
  std::optional<trust::WatermarkEmbedder> embedder;
  std::optional<media::Mp4Writer> writer;
  std::vector<uint8_t> marked;
  double squared_error = 0;
  int64_t samples = 0;
  media::Mp4ReadOptions read;
  read.on_frame = [&](const media::Mp4Info& info, std::span<const uint8_t> rgb) -> Status {
    if (!writer) {
      auto made = trust::WatermarkEmbedder::create(*key, payload, info.width, info.height, {args.strength, args.activity_mask, args.mask_boost, args.luminance_masking, args.mask_flat, args.grid, args.lift_weak_bits, args.weak_bit_z, args.max_lift});
      if (!made) return made.error();
      embedder.emplace(std::move(*made));
      media::Mp4Options options;
      options.fps = info.fps;
      options.crf = args.crf;
      auto opened = media::Mp4Writer::open(args.out_path, info.width, info.height, options);
      if (!opened) return opened.error();
      writer.emplace(std::move(*opened));
    }
    marked.assign(rgb.begin(), rgb.end());
    if (!args.copy) embedder->embed_frame(marked);
    for (size_t i = 0; i < marked.size(); ++i) {
      const double d = static_cast<double>(marked[i]) - rgb[i];
      squared_error += d * d;
    }
    samples += static_cast<int64_t>(marked.size());
    return writer->write_frame(marked);
  };
  auto decoded = media::read_mp4(args.in_path, read);
  if (!decoded) return report_error(decoded.error());
  if (!writer) return report_error(invalid_argument(args.in_path + " has no frames"));
  if (Status s = writer->finish(); !s) return report_error(s);
  const double mse = samples > 0 ? squared_error / static_cast<double>(samples) : 0;
  const double psnr = mse > 0 ? 10 * std::log10(255.0 * 255.0 / mse) : INFINITY;
  std::printf("frugal: wrote %s (%lld frames, %s, payload %s for id \"%s\"); PSNR marked vs input %.2f dB (RGB, before encoding)\n",
              args.out_path.c_str(), static_cast<long long>(writer->num_frames()), args.copy ? "unmarked copy" : "marked",
              trust::payload_hex(payload).c_str(), args.job_id.c_str(), psnr);
  return 0;
}

}  // namespace

void register_watermark(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("watermark", "Detect (or add) frugal's invisible video watermark");
  cmd->require_subcommand(1);
  auto det = std::make_shared<DetectArgs>();
  CLI::App* detect = cmd->add_subcommand("detect", "Read the watermark of a video file: payload, confidence, verdict");
  detect->add_option("file", det->path, "Video file (MP4 or anything libavformat opens)")->required();
  detect->add_option("--key", det->key_path, "Watermark key file (default: $FRUGAL_WATERMARK_KEY or watermark.key in $FRUGAL_STATE_DIR or ~/.local/state/frugal)");
  detect->add_option("--job-id", det->job_id, "Test for this job id's payload (the known-payload test: its verdict sets the exit status)");
  detect->add_option("--fpr", det->fpr, "False-positive rate of the verdict, in (0, 1)")->capture_default_str();
  detect->add_option("--max-frames", det->max_frames, "Frames to read (0 = all)")->capture_default_str();
  detect->add_flag("--json", det->json, "One JSON object instead of text");
  detect->add_flag("--mean-only", det->mean_only,
                   "Score the mean picture of all frames, not each frame (one decode pass, far less work; weaker after re-encoding)");
  detect->add_flag("-v,--verbose", det->verbose, "Every bit with its z and confidence");
  detect->callback([det] {
    const int code = run_detect(*det);
    if (code != 0) throw CLI::RuntimeError(code);
  });
  auto emb = std::make_shared<EmbedArgs>();
  CLI::App* embed = cmd->add_subcommand("embed", "Mark an existing video (re-encoded with libx264)");
  embed->add_option("input", emb->in_path, "Video to mark")->required();
  embed->add_option("-o,--output", emb->out_path, "Marked MP4")->required();
  embed->add_option("--key", emb->key_path, "Watermark key file (created if missing)");
  embed->add_option("--job-id", emb->job_id, "The id whose keyed hash is the payload")->capture_default_str();
  embed->add_option("--strength", emb->strength, "RMS luma change in 8-bit levels")->capture_default_str();
  embed->add_flag("--activity-mask,!--no-activity-mask", emb->activity_mask,
                  "On frames with no edges or texture, keep every cell under --mask-flat + 0.5 sigma levels (the default; "
                  "--no-activity-mask: every cell takes its share of the budget, the mark before the mask)");
  embed->add_option("--mask-boost", emb->mask_boost,
                     "Activity mask: how far (x the unmasked amplitude) textured cells may take the budget flat ones give up (1 = not re-spent)")
      ->capture_default_str();
  embed->add_option("--luminance-masking", emb->luminance_masking,
                    "Activity mask: the most a dark or bright background may raise a cell's limit (1 = none)")
      ->capture_default_str();
  embed->add_option("--mask-flat", emb->mask_flat, "Activity mask: a flat mid-grey cell's limit, in luma levels")
      ->capture_default_str();
  embed->add_flag("--lift-weak-bits,!--no-lift-weak-bits", emb->lift_weak_bits,
                  "Activity mask: lift the cells of bits predicted weak after CRF 28 + 0.5x (off by default: more visible)");
  embed->add_option("--weak-bit-z", emb->weak_bit_z, "Activity mask: a bit is lifted when its predicted z is under this")
      ->capture_default_str();
  embed->add_option("--max-lift", emb->max_lift, "Activity mask: the most a weak bit's cells are lifted (x target and limit)")
      ->capture_default_str();
  embed->add_option("--grid", emb->grid, "Lattice: 16 or 32 cells a side (0 = by frame size, as generated videos)")
      ->capture_default_str();
  embed->add_option("--crf", emb->crf, "x264 CRF of the output")->capture_default_str();
  embed->add_flag("--copy", emb->copy, "Write the video unmarked through the same encoder (a reference for PSNR)");
  embed->callback([emb] {
    const int code = run_embed(*emb);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
