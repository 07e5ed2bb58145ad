// `frugal text-encode`: a prompt (or token ids) through the umT5 encoder, as diffusers users run a
// pipeline's text encoder alone: writes the DiT context as raw f32 [L, dim] (or [text_len, dim]
// zero-padded with --pad) and prints the shape on stderr.
#include <cstdio>
#include <memory>
#include <string>

#include "cli_common.h"
#include "video/pipeline/model_files.h"
#include "video/text_encoder/tokenizer.h"
#include "video/text_encoder/umt5_encoder.h"
#include "video_output.h"

namespace frugal::cli {
namespace {

struct TextEncodeArgs {
  std::string model_dir;
  std::string encoder_path, tokenizer_path;
  std::string prompt, ids_text;
  bool prompt_given = false;  // -p was on the command line (possibly as '')
  std::string out_path;
  int64_t text_len = video::kWanTextLen;
  bool pad = false;
  bool print_ids = false;
  int threads = 0;
  std::string precision = "f32";
};

int text_encode(const TextEncodeArgs& args) {
  std::string encoder = args.encoder_path, tokenizer_path = args.tokenizer_path;
  if (!args.model_dir.empty()) {
    video::VideoModelOverrides overrides;
    overrides.text_encoder = encoder;
    overrides.tokenizer = tokenizer_path;
    auto files = video::resolve_video_model_files(args.model_dir, overrides);
    if (!files) return report_error(files.error());
    encoder = files->text_encoder;
    tokenizer_path = files->tokenizer;
  }
  if (encoder.empty()) return report_error(invalid_argument("name the text encoder (--text-encoder) or a model folder (-m)"));
  if (args.prompt_given == !args.ids_text.empty()) return report_error(invalid_argument("give exactly one of -p TEXT or --ids 1,2,3"));
  if (args.prompt_given && args.prompt.find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
    return report_error(invalid_argument("prompt: empty (give a text prompt, or token ids with --ids)"));
  }
  if (args.text_len < 1) return report_error(invalid_argument("--text-len must be >= 1"));
  std::vector<int32_t> ids;
  if (!args.ids_text.empty()) {
    auto parsed = parse_token_ids(args.ids_text, "--ids");
    if (!parsed) return report_error(parsed.error());
    ids = std::move(*parsed);
    if (static_cast<int64_t>(ids.size()) > args.text_len) {
      return report_error(invalid_argument(std::to_string(ids.size()) + " ids, more than --text-len " +
                                           std::to_string(args.text_len)));
    }
  } else {
    if (tokenizer_path.empty()) return report_error(invalid_argument("no tokenizer: give --tokenizer or --ids"));
    auto tokenizer = video::UmT5Tokenizer::load(tokenizer_path);
    if (!tokenizer) return report_error(tokenizer.error());
    auto tokens = tokenizer->encode(args.prompt, args.text_len);
    if (!tokens) return report_error(tokens.error());
    ids.assign(tokens->ids.begin(), tokens->ids.begin() + tokens->num_tokens);
  }
  if (args.print_ids) {
    for (size_t i = 0; i < ids.size(); ++i) std::fprintf(stderr, "%s%d", i ? "," : "ids: ", ids[i]);
    std::fputc('\n', stderr);
  }
  auto store = WeightStore::open({encoder});
  if (!store) return report_error(store.error());
  auto model = video::UmT5Encoder::load(*store, args.precision == "stored" ? WeightPrecision::kStored : WeightPrecision::kF32);
  if (!model) return report_error(model.error());
  std::vector<int32_t> padded(static_cast<size_t>(args.text_len), 0), mask(static_cast<size_t>(args.text_len), 0);
  std::copy(ids.begin(), ids.end(), padded.begin());
  std::fill(mask.begin(), mask.begin() + static_cast<long>(ids.size()), 1);
  ThreadPool pool(args.threads > 0 ? args.threads : default_num_threads());
  auto context = model->encode(padded, mask, pool);
  if (!context) return report_error(context.error());
  const int64_t dim = model->config().dim;
  const int64_t rows = args.pad ? args.text_len : static_cast<int64_t>(ids.size());
  context->resize(static_cast<size_t>(rows * dim), 0.0f);
  if (Status s = write_raw_f32(args.out_path, context->data(), static_cast<int64_t>(context->size())); !s) return report_error(s);
  std::fprintf(stderr, "frugal: wrote %s: f32 [%lld, %lld] (%zu real tokens)\n", args.out_path.c_str(),
               static_cast<long long>(rows), static_cast<long long>(dim), ids.size());
  return 0;
}

}  // namespace

void register_text_encode(CLI::App& app) {
  auto args = std::make_shared<TextEncodeArgs>();
  CLI::App* cmd = app.add_subcommand("text-encode", "Run the umT5 text encoder alone: prompt or ids -> raw f32 context");
  cmd->add_option("-m,--model", args->model_dir, "Wan model folder");
  cmd->add_option("--text-encoder", args->encoder_path, "umT5 encoder safetensors");
  cmd->add_option("--tokenizer", args->tokenizer_path, "SentencePiece model");
  CLI::Option* prompt_opt = cmd->add_option("-p,--prompt", args->prompt, "Text");
  cmd->add_option("--ids", args->ids_text, "Token ids 1,2,3 (eos included) instead of text");
  cmd->add_option("--text-len", args->text_len, "Padded length (Wan: 512)")->capture_default_str();
  cmd->add_flag("--pad", args->pad, "Write [text-len, dim], zero rows after the real tokens");
  cmd->add_flag("--print-ids", args->print_ids, "Print the token ids on stderr");
  cmd->add_option("--precision", args->precision, "f32 (reference) | stored")->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)");
  cmd->add_option("-o,--out", args->out_path, "Raw f32 output file")->required();
  cmd->callback([args, prompt_opt] {
    args->prompt_given = prompt_opt->count() > 0;
    const int code = text_encode(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
