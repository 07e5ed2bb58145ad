// `frugal video`: text-to-video with a Wan model folder (or separate part files), a live progress
// bar, H.264 MP4 output, optional PNG frames and raw tensors (the reference mode the tests use), and
// a closing summary (time per stage, peak memory, compute-seconds; --json for one JSON object).
// The MP4 carries signed C2PA provenance (--c2pa-key/--c2pa-cert, else the development signer under
// $FRUGAL_STATE_DIR or ~/.local/state/frugal; c2pa_flags.h).
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "c2pa_flags.h"
#include "cli_common.h"
#include "core/state_dir.h"
#include "trust/c2pa_manifest.h"
#include "trust/watermark_key.h"
#include "video_output.h"
#include "video_progress.h"
#include "ops/conv.h"
#include "video/pipeline/video_pipeline.h"
#include "video/vae/vae_memory.h"

namespace frugal::cli {

using namespace frugal::video;  // NOLINT: the video half's types in the video commands

const char* frugal_version();  // generated at build time (cmake/version.cmake)

namespace {

struct VideoArgs {
  std::string model;
  VideoModelOverrides overrides;
  std::string prompt, negative;
  std::string prompt_ids, negative_ids;
  VideoSettingsFlags gen{"832x480", 81, 50};  // --size --frames --steps --sampler --shift --cfg
  uint64_t seed = 0;
  int threads = 0;
  std::string precision = "stored";
  float boundary = 0.875f;
  std::optional<float> cfg_high_noise;  // two-expert models: the high-noise expert's guidance
  VideoOutputPaths out;
  bool json = false;
  bool quiet = false;
  C2paFlags c2pa;
  std::string watermark_key;  // "" → trust::default_watermark_key_path(), created if missing
  std::string watermark_id;   // "" → "video:<output file name>:seed=<seed>"
  bool no_watermark = false;
  std::string mem_budget;     // --mem-budget: the VAE decode's memory budget ("4GiB"), "" = untiled
};

Expected<VideoRequest> build_request(const VideoArgs& args) {
  VideoRequest r;
  r.prompt = args.prompt;
  r.negative_prompt = args.negative;
  if (!args.prompt_ids.empty()) {
    auto ids = parse_token_ids(args.prompt_ids, "--prompt-ids");
    if (!ids) return ids.error();
    r.prompt_ids = std::move(*ids);
  }
  if (!args.negative_ids.empty()) {
    auto ids = parse_token_ids(args.negative_ids, "--negative-ids");
    if (!ids) return ids.error();
    r.negative_ids = std::move(*ids);
  }
  if (Status s = args.gen.apply(r); !s) return s;
  r.seed = args.seed;
  r.expert_boundary = args.boundary;
  r.cfg_high_noise = args.cfg_high_noise;
  if (!args.mem_budget.empty()) {
    auto budget = parse_memory_size(args.mem_budget);
    if (!budget) return Status(budget.error().code(), "--mem-budget: " + budget.error().message());
    r.vae_mem_budget = *budget;
  }
  return r;
}

nlohmann::json stats_json(const VideoRunStats& s, const VideoArgs& args) {
  return {{"width", s.width}, {"height", s.height}, {"frames", s.frames}, {"fps", s.fps},
          {"latent_shape", {16, s.latent_frames, s.latent_height, s.latent_width}},
          {"steps", s.steps}, {"sampler", args.gen.sampler}, {"dit_passes", s.dit_passes},
          {"dit_passes_run", s.dit_passes - s.dit_passes_skipped}, {"dit_passes_skipped", s.dit_passes_skipped},
          {"step_cache", args.gen.step_cache},
          {"step_cache_mode", args.gen.step_cache_mode}, {"step_cache_max_skips", args.gen.step_cache_max_skips},
          {"step_cache_uncond", args.gen.step_cache_uncond}, {"step_cache_cond", args.gen.step_cache_cond},
          {"step_cache_uncond_max_skips", args.gen.step_cache_uncond_max_skips},
          {"step_cache_cfg", args.gen.step_cache_cfg}, {"step_cache_start", args.gen.step_cache_start},
          {"step_cache_end", args.gen.step_cache_end}, {"step_cache_stagger", args.gen.step_cache_stagger},
          {"step_cache_error_tol", args.gen.step_cache_error_tol}, {"attention", s.attention}, {"attention_tile_fraction", s.attention_fraction},
          {"attention_rest", s.attention_rest}, {"attention_pooled_fraction", s.attention_pooled_fraction},
          {"text_encode_seconds", s.text_encode_seconds}, {"denoise_seconds", s.denoise_seconds},
          {"seconds_per_step", s.seconds_per_step}, {"vae_decode_seconds", s.vae_decode_seconds},
          {"total_seconds", s.total_seconds}, {"stage_load_seconds", s.stage_load_seconds},
          {"compute_seconds", s.compute_seconds}, {"threads", s.threads},
          {"peak_rss_bytes", s.peak_rss_bytes}, {"vae_decode_peak_rss_bytes", s.vae_decode_peak_rss_bytes},
          {"vae_mem_budget_bytes", s.vae_mem_budget_bytes}, {"vae_predicted_peak_bytes", s.vae_predicted_peak_bytes},
          {"vae_tiles", s.vae_tiles}, {"vae_tiling", s.vae_tiling},
          // the VAE convolutions' arithmetic: "off" = f32 FMA, x1/x2/x3 = AMX-BF16 tiles (FRUGAL_AMX_VAE)
          {"vae_conv_arithmetic", conv_tile_mode_name(conv_tile_mode_in_effect())}, {"output", args.out.mp4}};
}

// Memory: "peak memory" is the process's VmHWM over the run; "VAE decode ... measured" its VmHWM from
// the decode's start (what the process held then: under StageResidency::kPerStage the VAE and the
// latent, the other parts freed); "predicted" the VAE memory model's upper bound for that decode
// (vae_memory.h: weights + activations + fixed allowances, which dominate on a tiny VAE).
void print_summary(const VideoRunStats& s) {
  std::fprintf(stderr,
               "frugal: %lldx%lld, %lld frames (%.2f s at %lld fps), %d steps; text encode %s, denoise %s (%.2f s/step, "
               "%d DiT passes, %d skipped by the step cache; %s attention, %.1f%% of tiles), VAE decode %s (%s); total %s, "
               "compute %.1f core-s on %d threads; peak memory %.2f GiB (VAE decode %.2f GiB measured, %.2f GiB "
               "predicted%s)\n",
               static_cast<long long>(s.width), static_cast<long long>(s.height), static_cast<long long>(s.frames),
               static_cast<double>(s.frames) / static_cast<double>(s.fps), static_cast<long long>(s.fps), s.steps,
               format_seconds(s.text_encode_seconds).c_str(), format_seconds(s.denoise_seconds).c_str(),
               s.seconds_per_step, s.dit_passes, s.dit_passes_skipped, s.attention.c_str(), 100.0 * s.attention_fraction,
               format_seconds(s.vae_decode_seconds).c_str(), s.vae_tiling.c_str(),
               format_seconds(s.total_seconds).c_str(), s.compute_seconds, s.threads,
               static_cast<double>(s.peak_rss_bytes) / (1 << 30), static_cast<double>(s.vae_decode_peak_rss_bytes) / (1 << 30),
               static_cast<double>(s.vae_predicted_peak_bytes) / (1 << 30),
               s.vae_mem_budget_bytes > 0 ? (", budget " + format_memory_size(s.vae_mem_budget_bytes)).c_str() : "");
}

// The model as the C2PA manifest names it: the model folder's name (or the DiT file's).
std::string model_name(const VideoArgs& args) {
  std::filesystem::path p(!args.model.empty() || args.overrides.dit.empty() ? args.model : args.overrides.dit.front());
  if (!p.has_filename()) p = p.parent_path();
  return p.empty() ? "unknown" : p.filename().string();
}

int run_video(const VideoArgs& args) {
  if (args.out.mp4.empty() && args.out.raw.empty() && args.out.png_dir.empty()) {
    return report_error(invalid_argument("name an output: -o out.mp4, --png-dir DIR or --out-raw FILE"));
  }
  auto request = build_request(args);
  if (!request) return report_error(request.error());
  if (args.precision != "stored" && args.precision != "f32") {
    return report_error(invalid_argument("--precision must be stored or f32, not \"" + args.precision + "\""));
  }
  std::optional<trust::WatermarkKey> key;
  VideoWatermark watermark;
  if (!args.no_watermark && (!args.out.mp4.empty() || !args.out.png_dir.empty())) {
    const std::string key_path = args.watermark_key.empty() ? trust::default_watermark_key_path() : args.watermark_key;
    bool created = false;
    auto loaded = trust::load_or_create_watermark_key(key_path, &created);
    if (!loaded) return report_error(loaded.error());
    if (created) std::fprintf(stderr, "frugal: created a new watermark key in %s (keep it: detection needs it)\n", key_path.c_str());
    key = *loaded;
    watermark.key = &*key;
    const std::string name = std::filesystem::path(args.out.mp4.empty() ? args.out.png_dir : args.out.mp4).filename().string();
    watermark.id = args.watermark_id.empty() ? "video:" + name + ":seed=" + std::to_string(args.seed) : args.watermark_id;
  }
  std::function<Status(const std::string&)> provenance;  // C2PA in the MP4 (c2pa_flags.h)
  if (!args.out.mp4.empty()) {
    auto creds = load_c2pa_credentials(args.c2pa, default_state_dir());
    if (!creds) return report_error(creds.error());
    trust::ProvenanceInfo info;
    info.software_version = frugal_version();
    info.model = model_name(args);
    info.title = std::filesystem::path(args.out.mp4).filename().string();
    if (watermark.key != nullptr && request->width >= trust::kWatermarkMinSide && request->height >= trust::kWatermarkMinSide) {
      info.watermark = trust::frugal_watermark_binding(trust::watermark_payload_for(*watermark.key, watermark.id));
    }
    provenance = trust::c2pa_before_publish(std::move(*creds), std::move(info));
  }
  auto files = resolve_video_model_files(args.model, args.overrides);
  if (!files) return report_error(files.error());
  VideoPipelineOptions options;
  options.num_threads = args.threads;
  options.precision = args.precision == "f32" ? WeightPrecision::kF32 : WeightPrecision::kStored;
  // One request: each part is in memory only for its stage (the peak is the largest stage's).
  options.residency = StageResidency::kPerStage;
  auto pipeline = VideoPipeline::load(*files, options);
  if (!pipeline) return report_error(pipeline.error());
  if (!args.out.noise.empty()) {
    auto noise = read_raw_f32(args.out.noise);
    if (!noise) return report_error(noise.error());
    request->noise = std::move(*noise);
  }
  if (Status s = (*pipeline)->validate(*request); !s) return report_error(s);
  auto sink = VideoOutputSink::open(args.out, *request, (*pipeline)->info(), watermark, std::move(provenance));
  if (!sink) return report_error(sink.error());
  VideoProgressBar bar(!args.quiet);
  VideoCallbacks callbacks;
  callbacks.on_progress = [&](const VideoProgress& p) { bar.update(p); };
  callbacks.on_frames = [&](const float* frames, int64_t n) { return (*sink)->write_frames(frames, n); };
  if (!args.out.latents.empty()) {
    callbacks.on_latent = [&](int step, const float* latent, int64_t n) { (*sink)->write_latent(step, latent, n); };
  }
  auto stats = (*pipeline)->generate(*request, callbacks);
  bar.finish();
  if (!stats) return report_error(stats.error());
  if (Status s = (*sink)->finish(); !s) return report_error(s);
  print_summary(*stats);
  (*sink)->print_written();
  if (args.json) std::printf("%s\n", stats_json(*stats, args).dump().c_str());
  return 0;
}

}  // namespace

void register_video(CLI::App& app) {
  auto args = std::make_shared<VideoArgs>();
  CLI::App* cmd = app.add_subcommand("video", "Generate a video from text with a Wan2.1/2.2 model (H.264 MP4)");
  cmd->add_option("-m,--model", args->model, "Model folder as released (config.json, DiT, VAE, umT5, tokenizer)");
  cmd->add_option("--dit", args->overrides.dit, "DiT weights: safetensors (shards), index .json or .gguf");
  cmd->add_option("--vae", args->overrides.vae, "VAE safetensors");
  cmd->add_option("--text-encoder", args->overrides.text_encoder, "umT5 encoder safetensors");
  cmd->add_option("--tokenizer", args->overrides.tokenizer, "SentencePiece model (spiece.model)");
  cmd->add_option("-p,--prompt", args->prompt, "Text prompt");
  cmd->add_option("--negative", args->negative, "Negative prompt (default: Wan's)");
  cmd->add_option("--prompt-ids", args->prompt_ids, "Reference mode: token ids 1,2,3 instead of the prompt text");
  cmd->add_option("--negative-ids", args->negative_ids, "Reference mode: token ids of the negative prompt");
  args->gen.add_to(cmd);
  cmd->add_option("--seed", args->seed, "Noise seed")->capture_default_str();
  cmd->add_option("--boundary", args->boundary, "Two-expert models: high-noise DiT while t >= boundary*1000")
      ->capture_default_str();
  cmd->add_option("--cfg-high-noise", args->cfg_high_noise,
                  "Two-expert models: guidance while the high-noise DiT runs (Wan2.2 A14B: --cfg 3 --cfg-high-noise 4); "
                  "default: --cfg");
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)");
  cmd->add_option("--precision", args->precision, "stored (weights as stored) | f32 (reference numerics)")
      ->capture_default_str();
  cmd->add_option("-o,--output", args->out.mp4, "H.264 MP4 file");
  cmd->add_option("--png-dir", args->out.png_dir, "Also write every frame as PNG into this folder");
  cmd->add_option("--noise", args->out.noise, "Reference mode: raw f32 initial latent [16,T,H/8,W/8] instead of the seed");
  cmd->add_option("--out-raw", args->out.raw, "Raw f32 video [3,F,H,W] in [-1,1] before 8-bit conversion (unclamped)");
  cmd->add_flag("--raw-unclamped", args->out.raw_unclamped, "--out-raw holds the decoder output before the clamp");
  cmd->add_option("--out-latents", args->out.latents, "Raw f32 latents of every step [steps+1,16,T,H/8,W/8]");
  cmd->add_option("--watermark-key", args->watermark_key,
                  "Invisible watermark key file (default: $FRUGAL_WATERMARK_KEY or watermark.key in $FRUGAL_STATE_DIR or ~/.local/state/frugal, created if missing)");
  cmd->add_option("--watermark-id", args->watermark_id, "The id whose keyed hash is the watermark payload (default: video:<file>:seed=<seed>)");
  cmd->add_flag("--no-watermark", args->no_watermark, "Do not watermark the MP4 / PNG frames (benchmarks)");
  cmd->add_option("--mem-budget", args->mem_budget,
                  "VAE decode memory budget (e.g. 4GiB; binary units): tile the frame when the untiled decode would "
                  "not fit (default: untiled)");
  cmd->add_flag("--json", args->json, "Print the summary as one JSON object on stdout");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress bar");
  add_c2pa_flags(*cmd, args->c2pa);
  cmd->callback([args] {
    if (Status s = args->gen.apply_model_defaults(args->model); !s) throw CLI::RuntimeError(report_error(s));
    const int code = run_video(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
