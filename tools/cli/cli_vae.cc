// `frugal vae encode|decode`: the Wan VAE alone, as diffusers users run a pipeline's VAE: raw f32
// video [3, F, H, W] in [-1, 1] <-> normalised latent [16, T, H/8, W/8]. Shapes, time and memory are
// printed on stderr. Decoding streams latent frame by latent frame into the output file.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli_common.h"
#include "core/memory_usage.h"
#include "ops/conv.h"
#include "video/pipeline/model_files.h"
#include "video/vae/wan_vae.h"
#include "video_output.h"

namespace frugal::cli {
namespace {

struct VaeArgs {
  std::string model_dir, vae_path;
  std::string in_path, out_path;
  std::string shape_text;  // "3,9,64,96" or "16,3,8,12"
  bool unclamped = false;
  int threads = 0;
  std::string mem_budget;  // decode: "4GiB", "" = untiled
  std::string tile;        // decode: "h,w,overlap_h,overlap_w" latent pixels (benchmarks), "" = the planner's
};

// --mem-budget / --tile into decode options.
Expected<video::VaeDecodeOptions> decode_options(const VaeArgs& args) {
  video::VaeDecodeOptions opts;
  if (!args.mem_budget.empty()) {
    auto budget = video::parse_memory_size(args.mem_budget);
    if (!budget) return Status(budget.error().code(), "--mem-budget: " + budget.error().message());
    opts.mem_budget_bytes = *budget;
  }
  if (!args.tile.empty()) {
    long long v[4];
    char extra = 0;
    if (std::sscanf(args.tile.c_str(), "%lld,%lld,%lld,%lld%c", &v[0], &v[1], &v[2], &v[3], &extra) != 4 || v[0] <= 0 ||
        v[1] <= 0 || v[2] < 0 || v[3] < 0) {
      return invalid_argument("--tile must be h,w,overlap_h,overlap_w in latent pixels (e.g. 32,32,8,8), not \"" +
                              args.tile + "\"");
    }
    opts.tile_h = v[0];
    opts.tile_w = v[1];
    opts.overlap_h = v[2];
    opts.overlap_w = v[3];
  }
  return opts;
}

Expected<std::array<int64_t, 4>> parse_shape(const std::string& text) {
  std::array<int64_t, 4> shape{};
  long long v[4];
  char extra = 0;
  if (std::sscanf(text.c_str(), "%lld,%lld,%lld,%lld%c", &v[0], &v[1], &v[2], &v[3], &extra) != 4) {
    return invalid_argument("--shape must be C,T,H,W (e.g. 3,9,64,96), not \"" + text + "\"");
  }
  for (int i = 0; i < 4; ++i) {
    if (v[i] <= 0) return invalid_argument("--shape: dimensions must be positive");
    shape[i] = v[i];
  }
  return shape;
}

Expected<std::unique_ptr<video::WanVae>> load_vae(const VaeArgs& args) {
  std::string path = args.vae_path;
  if (path.empty()) {
    if (args.model_dir.empty()) return invalid_argument("name the VAE (--vae) or a model folder (-m)");
    auto files = video::resolve_video_model_files(args.model_dir, {});
    if (!files) return files.error();
    path = files->vae;
  }
  auto store = WeightStore::open({path});
  if (!store) return store.error();
  auto vae = video::WanVae::load(*store);
  if (!vae) return vae.error();
  return std::make_unique<video::WanVae>(std::move(*vae));
}

// Decodes latent by latent frame straight into the raw file [3, F, H, W] (each chunk's channels go to
// their own places), so memory holds one chunk, never the whole video (a tiled decode under --mem-budget
// holds the blended frames, as the memory model counts: video/vae/vae_memory.h).
Status decode_streaming(video::WanVae& vae, const std::vector<float>& z, const std::array<int64_t, 4>& shape,
                        const VaeArgs& args, ThreadPool& pool, std::array<int64_t, 4>* out_shape) {
  auto opts = decode_options(args);
  if (!opts) return opts.error();
  // Refuse an impossible budget before creating the output file.
  if (auto plan = vae.plan_decode(shape, *opts); !plan) return plan.error();
  const auto decoded = video::WanVae::decoded_shape(shape);
  *out_shape = decoded;
  auto raw = RawVideoFile::create(args.out_path, decoded[1], decoded[2], decoded[3]);
  if (!raw) return raw.error();
  std::vector<float> chunk;
  auto sink = [&](const float* frames, int64_t n) -> Status {
    chunk.assign(frames, frames + 3 * n * decoded[2] * decoded[3]);
    if (!args.unclamped) video::clamp_unit(chunk.data(), static_cast<int64_t>(chunk.size()));
    return (*raw)->append(chunk.data(), n);
  };
  if (Status s = vae.decode(z.data(), shape, sink, pool, *opts); !s) return s;
  return (*raw)->close();
}

int run_vae(const VaeArgs& args, bool encode) {
  auto shape = parse_shape(args.shape_text);
  if (!shape) return report_error(shape.error());
  auto input = read_raw_f32(args.in_path);
  if (!input) return report_error(input.error());
  const int64_t want = (*shape)[0] * (*shape)[1] * (*shape)[2] * (*shape)[3];
  if (static_cast<int64_t>(input->size()) != want) {
    return report_error(invalid_argument(args.in_path + " holds " + std::to_string(input->size()) +
                                         " values; --shape " + args.shape_text + " needs " + std::to_string(want)));
  }
  auto vae = load_vae(args);
  if (!vae) return report_error(vae.error());
  ThreadPool pool(args.threads > 0 ? args.threads : default_num_threads());
  std::array<int64_t, 4> o{};
  const auto t0 = std::chrono::steady_clock::now();
  if (encode) {
    auto out = (*vae)->encode(input->data(), *shape, pool);
    if (!out) return report_error(out.error());
    if (Status s = write_raw_f32(args.out_path, out->data.data(), static_cast<int64_t>(out->data.size())); !s) {
      return report_error(s);
    }
    o = out->shape;
  } else if (Status s = decode_streaming(**vae, *input, *shape, args, pool, &o); !s) {
    return report_error(s);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "frugal: wrote %s: f32 [%lld, %lld, %lld, %lld]%s\n", args.out_path.c_str(), static_cast<long long>(o[0]),
               static_cast<long long>(o[1]), static_cast<long long>(o[2]), static_cast<long long>(o[3]),
               encode ? " (normalised latent)" : (args.unclamped ? " (unclamped)" : " (clamped to [-1, 1])"));
  std::fprintf(stderr,
               "frugal: %s %.2f s on %d threads (convolutions: %s); VAE working set %.1f MiB; process peak memory %.1f MiB\n",
               encode ? "encode" : "decode", seconds, pool.num_threads(),
               conv_tile_mode_in_effect() == ConvTileMode::kOff
                   ? "f32 FMA"
                   : (std::string("AMX-BF16 ") + conv_tile_mode_name(conv_tile_mode_in_effect())).c_str(),
               (*vae)->peak_scratch_bytes() / 1048576.0, peak_rss_bytes() / 1048576.0);
  if (!encode) {
    const video::VaeTilePlan& plan = (*vae)->last_plan();
    std::fprintf(stderr, "frugal: decode %s; memory model: peak %.1f MiB%s\n", plan.to_string().c_str(),
                 plan.predicted_bytes / 1048576.0,
                 args.mem_budget.empty() ? "" : (" within --mem-budget " + args.mem_budget).c_str());
  }
  return 0;
}

void add_common(CLI::App* cmd, const std::shared_ptr<VaeArgs>& args, const char* shape_help) {
  cmd->add_option("-m,--model", args->model_dir, "Wan model folder");
  cmd->add_option("--vae", args->vae_path, "VAE safetensors");
  cmd->add_option("-i,--in", args->in_path, "Raw f32 input")->required();
  cmd->add_option("--shape", args->shape_text, shape_help)->required();
  cmd->add_option("-o,--out", args->out_path, "Raw f32 output")->required();
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)");
}

}  // namespace

void register_vae(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("vae", "Run the Wan VAE alone: encode a raw video, decode a raw latent");
  cmd->require_subcommand(1);
  auto enc = std::make_shared<VaeArgs>();
  CLI::App* encode = cmd->add_subcommand("encode", "video [3,F,H,W] in [-1,1] -> latent [16,1+(F-1)/4,H/8,W/8]");
  add_common(encode, enc, "Input shape 3,F,H,W");
  encode->callback([enc] {
    const int code = run_vae(*enc, true);
    if (code != 0) throw CLI::RuntimeError(code);
  });
  auto dec = std::make_shared<VaeArgs>();
  CLI::App* decode = cmd->add_subcommand("decode", "latent [16,T,h,w] -> video [3,1+4(T-1),8h,8w], clamped to [-1,1]");
  add_common(decode, dec, "Input shape 16,T,h,w");
  decode->add_flag("--unclamped", dec->unclamped, "Write the decoder output before the clamp");
  decode->add_option("--mem-budget", dec->mem_budget,
                     "Memory budget of the decode, VAE weights included (e.g. 4GiB; binary units): tile the frame "
                     "when the untiled decode would not fit (default: untiled)");
  decode->add_option("--tile", dec->tile, "Explicit tiles h,w,overlap_h,overlap_w in latent pixels (benchmarks)");
  decode->callback([dec] {
    const int code = run_vae(*dec, false);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
