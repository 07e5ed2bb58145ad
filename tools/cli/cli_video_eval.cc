// `frugal video-eval`: judges clips of the caption grammar (src/video/eval, issue #19).
//   --clip clip.mp4 [--caption "a red circle moving right on a black background"]
//       decodes one clip and prints the judge's verdict (and, with a caption, what is right).
//   -m MODEL_DIR --prompts FILE [--seeds 1,2,3] [--steps --cfg --shift --sampler --size --frames]
//       generates every prompt x seed in-process through the video pipeline, judges each clip
//       and prints per-attribute accuracy and seconds per clip.
// --json prints one JSON object on stdout instead of the text report.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "video_output.h"
#include "media/frame_convert.h"
#include "media/mp4_reader.h"
#include "media/mp4_writer.h"
#include "video/eval/caption.h"
#include "video/eval/clip_judge.h"
#include "video/pipeline/video_pipeline.h"

namespace frugal::cli {

using namespace frugal::video;  // NOLINT: the video half's types in the video commands
namespace {

struct VideoEvalArgs {
  std::string clip;
  std::string caption;
  std::string model;
  std::string prompts;
  std::string seeds = "1,2,3";
  VideoSettingsFlags gen{"64x64", 17, 20};  // --size --frames --steps --sampler --shift --cfg
  int threads = 0;
  std::string save_dir;
  bool json = false;
};

std::string rgb_hex(Rgb8 c) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "#%02X%02X%02X", c.r, c.g, c.b);
  return buf;
}

template <typename T, typename Name>
nlohmann::json optional_name(const std::optional<T>& value, Name name) {
  return value ? nlohmann::json(std::string(name(*value))) : nlohmann::json(nullptr);
}

nlohmann::json verdict_json(const ClipVerdict& v) {
  return {{"caption", describe_verdict(v)},
          {"background", colour_name(v.background)},
          {"background_rgb", rgb_hex(v.background_rgb)},
          {"background_delta_e", v.background_delta_e},
          {"object_found", v.object_found},
          {"frames_with_object", v.frames_with_object},
          {"colour", optional_name(v.colour, colour_name)},
          {"object_rgb", rgb_hex(v.object_rgb)},
          {"colour_delta_e", v.colour_delta_e},
          {"shape", optional_name(v.shape, shape_name)},
          {"fill_ratio", v.fill_ratio},
          {"skew", v.skew},
          {"kurtosis", v.kurtosis},
          {"direction", direction_name(v.direction)},
          {"displacement_px", {v.displacement_x, v.displacement_y}},
          {"object_fraction", v.object_fraction},
          {"largest_blob_share", v.largest_blob_share}};
}

nlohmann::json scores_json(const AttributeScores& s) {
  return {{"colour", s.colour}, {"background", s.background}, {"shape", s.shape}, {"direction", s.direction},
          {"all", s.all()}};
}

const char* mark(bool ok) { return ok ? "ok" : "WRONG"; }

void print_verdict(const ClipVerdict& v, const std::optional<Caption>& expected) {
  const std::optional<AttributeScores> s = expected ? std::optional(score_verdict(v, *expected)) : std::nullopt;
  auto tail = [&](bool ok) { return s ? std::string("  ") + mark(ok) : std::string(); };
  std::printf("judged:     %s\n", describe_verdict(v).c_str());
  if (expected) std::printf("expected:   %s\n", render_caption(*expected).c_str());
  std::printf("background: %-8s (border median %s, delta E %.1f)%s\n", std::string(colour_name(v.background)).c_str(),
              rgb_hex(v.background_rgb).c_str(), v.background_delta_e, tail(s && s->background).c_str());
  if (!v.object_found) {
    std::printf("object:     none found (present in %d frames, %.2f %% of pixels)%s\n", v.frames_with_object,
                100.0 * v.object_fraction, tail(false).c_str());
  } else {
    std::printf("colour:     %-8s (object median %s, delta E %.1f, %.2f %% of pixels, largest blob %.0f %%)%s\n",
                std::string(colour_name(*v.colour)).c_str(), rgb_hex(v.object_rgb).c_str(), v.colour_delta_e,
                100.0 * v.object_fraction, 100.0 * v.largest_blob_share, tail(s && s->colour).c_str());
    std::printf("shape:      %-8s (fill %.3f, skew %.4f, kurtosis %.5f)%s\n", std::string(shape_name(*v.shape)).c_str(),
                v.fill_ratio, v.skew, v.kurtosis, tail(s && s->shape).c_str());
  }
  std::printf("direction:  %-8s (centroid moved %+.1f px right, %+.1f px down)%s\n",
              std::string(direction_name(v.direction)).c_str(), v.displacement_x, v.displacement_y,
              tail(s && s->direction).c_str());
  if (s) std::printf("all four:   %s\n", mark(s->all()));
}

int run_clip_mode(const VideoEvalArgs& args) {
  std::optional<Caption> expected;
  if (!args.caption.empty()) {
    auto c = parse_caption(args.caption);
    if (!c) return report_error(c.error());
    expected = *c;
  }
  auto decoded = media::read_mp4(args.clip);
  if (!decoded) return report_error(decoded.error());
  RgbClip clip{static_cast<int>(decoded->info.num_frames), decoded->info.height, decoded->info.width,
               std::move(decoded->frames)};
  auto verdict = judge_clip(clip);
  if (!verdict) return report_error(verdict.error());
  if (args.json) {
    nlohmann::json out = {{"clip", args.clip}, {"width", clip.width}, {"height", clip.height},
                          {"frames", clip.num_frames}, {"verdict", verdict_json(*verdict)}};
    if (expected) {
      out["expected"] = render_caption(*expected);
      out["correct"] = scores_json(score_verdict(*verdict, *expected));
    }
    std::printf("%s\n", out.dump().c_str());
  } else {
    print_verdict(*verdict, expected);
  }
  return 0;
}

// ---- generation mode ----

Expected<std::vector<Caption>> read_prompts(const std::string& path) {
  std::ifstream in(path);
  if (!in) return not_found("cannot open the prompts file " + path);
  std::vector<Caption> out;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;  // blank lines and comments
    auto c = parse_caption(line);
    if (!c) return invalid_argument(path + ":" + std::to_string(line_no) + ": " + c.error().message());
    out.push_back(*c);
  }
  if (out.empty()) return invalid_argument("the prompts file " + path + " has no captions");
  return out;
}

Expected<std::vector<uint64_t>> parse_seeds(const std::string& text) {
  std::vector<uint64_t> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    char* end = nullptr;
    const unsigned long long v = std::strtoull(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || item[0] == '-') {
      return invalid_argument("--seeds must be comma-separated non-negative integers, not \"" + text + "\"");
    }
    out.push_back(v);
    pos = comma + 1;
  }
  return out;
}

// Collects the pipeline's streamed frames [3, n, H, W] (unclamped) as RGB8 [F, H, W, 3].
Status append_frames(const float* frames, int64_t n, RgbClip& clip) {
  const size_t count = static_cast<size_t>(3 * n) * clip.height * clip.width;
  std::vector<float> clamped(frames, frames + count);
  for (float& x : clamped) x = std::clamp(x, -1.0f, 1.0f);
  const media::VideoShape shape{static_cast<int>(n), clip.height, clip.width};
  for (int f = 0; f < n; ++f) {
    const size_t offset = clip.pixels.size();
    clip.pixels.resize(offset + clip.frame_bytes());
    media::video_frame_to_rgb8(clamped, shape, f, {clip.pixels.data() + offset, clip.frame_bytes()});
    ++clip.num_frames;
  }
  return Status::ok();
}

Status save_clip(const RgbClip& clip, const std::string& path) {
  auto writer = media::Mp4Writer::open(path, clip.width, clip.height, {});
  if (!writer) return writer.error();
  for (int f = 0; f < clip.num_frames; ++f) {
    if (Status s = writer->write_frame({clip.frame(f), clip.frame_bytes()}); !s) return s;
  }
  return writer->finish();
}

struct ClipResult {
  Caption prompt;
  uint64_t seed = 0;
  ClipVerdict verdict;
  AttributeScores correct;
  double seconds = 0;
};

Expected<ClipResult> generate_and_judge(VideoPipeline& pipeline, VideoRequest request, const Caption& prompt,
                                        uint64_t seed, const std::string& save_dir) {
  request.prompt = render_caption(prompt);
  request.seed = seed;
  RgbClip clip{0, static_cast<int>(request.height), static_cast<int>(request.width), {}};
  VideoCallbacks callbacks;
  callbacks.on_frames = [&](const float* frames, int64_t n) { return append_frames(frames, n, clip); };
  const auto start = std::chrono::steady_clock::now();
  auto stats = pipeline.generate(request, callbacks);
  if (!stats) return stats.error();
  ClipResult r{prompt, seed, {}, {}, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
  auto verdict = judge_clip(clip);
  if (!verdict) return verdict.error();
  r.verdict = *verdict;
  r.correct = score_verdict(r.verdict, prompt);
  if (!save_dir.empty()) {
    std::string name = request.prompt;
    std::replace(name.begin(), name.end(), ' ', '_');
    if (Status s = save_clip(clip, save_dir + "/" + name + "_seed" + std::to_string(seed) + ".mp4"); !s) return s;
  }
  return r;
}

struct Summary {
  int clips = 0, colour = 0, background = 0, shape = 0, direction = 0, all = 0;
  double seconds = 0;

  void add(const ClipResult& r) {
    ++clips;
    colour += r.correct.colour;
    background += r.correct.background;
    shape += r.correct.shape;
    direction += r.correct.direction;
    all += r.correct.all();
    seconds += r.seconds;
  }
  double pct(int n) const { return clips == 0 ? 0.0 : 100.0 * n / clips; }
};

void print_table(const std::vector<ClipResult>& results, const Summary& s) {
  std::printf("%-52s %5s  %-6s %-10s %-6s %-9s %6s  %s\n", "prompt", "seed", "colour", "background", "shape",
              "direction", "s", "judged as");
  for (const ClipResult& r : results) {
    std::printf("%-52s %5llu  %-6s %-10s %-6s %-9s %6.2f  %s\n", render_caption(r.prompt).c_str(),
                static_cast<unsigned long long>(r.seed), mark(r.correct.colour), mark(r.correct.background),
                mark(r.correct.shape), mark(r.correct.direction), r.seconds, describe_verdict(r.verdict).c_str());
  }
  std::printf("\n%-12s %8s\n", "attribute", "accuracy");
  const std::pair<const char*, int> rows[] = {{"colour", s.colour}, {"background", s.background}, {"shape", s.shape},
                                              {"direction", s.direction}, {"all four", s.all}};
  for (const auto& [name, n] : rows) std::printf("%-12s %6.1f %%  (%d/%d)\n", name, s.pct(n), n, s.clips);
  std::printf("%-12s %6.2f s per clip (%d clips)\n", "time", s.clips ? s.seconds / s.clips : 0.0, s.clips);
}

nlohmann::json results_json(const std::vector<ClipResult>& results, const Summary& s, const VideoEvalArgs& args) {
  nlohmann::json clips = nlohmann::json::array();
  for (const ClipResult& r : results) {
    clips.push_back({{"prompt", render_caption(r.prompt)}, {"seed", r.seed}, {"seconds", r.seconds},
                     {"correct", scores_json(r.correct)}, {"verdict", verdict_json(r.verdict)}});
  }
  return {{"model", args.model}, {"size", args.gen.size}, {"frames", args.gen.frames}, {"steps", args.gen.steps},
          {"cfg", args.gen.cfg}, {"shift", args.gen.shift}, {"sampler", args.gen.sampler}, {"clips", s.clips},
          {"accuracy", {{"colour", s.pct(s.colour) / 100}, {"background", s.pct(s.background) / 100},
                        {"shape", s.pct(s.shape) / 100}, {"direction", s.pct(s.direction) / 100},
                        {"all", s.pct(s.all) / 100}}},
          {"seconds_per_clip", s.clips ? s.seconds / s.clips : 0.0}, {"results", clips}};
}

Expected<VideoRequest> build_request(const VideoEvalArgs& args) {
  VideoRequest r;
  if (Status s = args.gen.apply(r); !s) return s;
  return r;
}

int run_generate_mode(const VideoEvalArgs& args) {
  auto prompts = read_prompts(args.prompts);
  if (!prompts) return report_error(prompts.error());
  auto seeds = parse_seeds(args.seeds);
  if (!seeds) return report_error(seeds.error());
  auto request = build_request(args);
  if (!request) return report_error(request.error());
  auto files = resolve_video_model_files(args.model, {});
  if (!files) return report_error(files.error());
  VideoPipelineOptions options;
  options.num_threads = args.threads;
  auto pipeline = VideoPipeline::load(*files, options);
  if (!pipeline) return report_error(pipeline.error());
  request->prompt = render_caption(prompts->front());
  if (Status s = (*pipeline)->validate(*request); !s) return report_error(s);
  std::vector<ClipResult> results;
  Summary summary;
  for (const Caption& prompt : *prompts) {
    for (uint64_t seed : *seeds) {
      auto r = generate_and_judge(**pipeline, *request, prompt, seed, args.save_dir);
      if (!r) return report_error(r.error());
      std::fprintf(stderr, "frugal: [%d/%zu] %s (seed %llu): %s, %.2f s\n", summary.clips + 1,
                   prompts->size() * seeds->size(), render_caption(prompt).c_str(),
                   static_cast<unsigned long long>(seed), describe_verdict(r->verdict).c_str(), r->seconds);
      summary.add(*r);
      results.push_back(std::move(*r));
    }
  }
  if (args.json) {
    std::printf("%s\n", results_json(results, summary, args).dump().c_str());
  } else {
    print_table(results, summary);
  }
  return 0;
}

int run_video_eval(const VideoEvalArgs& args) {
  const bool clip_mode = !args.clip.empty();
  const bool generate_mode = !args.model.empty() || !args.prompts.empty();
  if (clip_mode == generate_mode) {
    return report_error(invalid_argument("give either --clip FILE [--caption TEXT] or -m MODEL_DIR --prompts FILE"));
  }
  if (clip_mode) return run_clip_mode(args);
  if (args.model.empty() || args.prompts.empty()) {
    return report_error(invalid_argument("generation mode needs both -m MODEL_DIR and --prompts FILE"));
  }
  return run_generate_mode(args);
}

}  // namespace

void register_video_eval(CLI::App& app) {
  auto args = std::make_shared<VideoEvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "video-eval", "Judge clips of the caption grammar: one MP4 (--clip), or a model over a prompt list (-m --prompts)");
  cmd->add_option("--clip", args->clip, "An MP4 to judge");
  cmd->add_option("--caption", args->caption, "The caption it should show: \"a red circle moving right on a black background\"");
  cmd->add_option("-m,--model", args->model, "Model folder to generate with (as for `frugal video`)");
  cmd->add_option("--prompts", args->prompts, "Captions to generate, one per line (# comments allowed)");
  cmd->add_option("--seeds", args->seeds, "Noise seeds for every prompt, comma-separated")->capture_default_str();
  args->gen.add_to(cmd);
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)");
  cmd->add_option("--save-dir", args->save_dir, "Also write every generated clip as an MP4 into this folder");
  cmd->add_flag("--json", args->json, "Print one JSON object on stdout instead of the text report");
  cmd->callback([args] {
    if (Status s = args->gen.apply_model_defaults(args->model); !s) throw CLI::RuntimeError(report_error(s));
    const int code = run_video_eval(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
