// `frugal logits`: print the prompt's token ids (JSON) and write every position's logits as raw
// little-endian f32, row-major [n_tokens, n_vocab] (the layout of llama.cpp reference dumps).
#include <cstdio>
#include <sstream>
#include <string>

#include "cli_common.h"
#include "engine/session.h"

namespace frugal::cli {
namespace {

struct LogitsArgs {
  std::string model_path;
  std::string prompt;
  std::string ids;
  std::string out_path;
  int threads = 0;
  bool reference = false;
  bool no_bos = false;
};

Expected<std::vector<int32_t>> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const long long v = std::stoll(item, &used);
      if (used != item.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(item);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      return invalid_argument("--ids: '" + item + "' is not a token id");
    }
  }
  if (ids.empty()) return invalid_argument("--ids: no token ids given");
  return ids;
}

int logits(const LogitsArgs& args) {
  if (args.prompt.empty() == args.ids.empty()) return report_error(invalid_argument("give exactly one of -p and --ids"));
  auto loaded = load_model(args.model_path);
  if (!loaded) return report_error(loaded.error());
  auto ids = args.ids.empty() ? Expected<std::vector<int32_t>>(loaded->tokenizer->encode(args.prompt, !args.no_bos, false))
                              : parse_ids(args.ids);
  if (!ids) return report_error(ids.error());
  SessionOptions options;
  options.num_threads = args.threads;
  options.n_ctx = std::max<int64_t>(loaded->model->config().n_ctx_train, static_cast<int64_t>(ids->size()));
  options.path = args.reference ? MatmulPath::kReference : MatmulPath::kFast;
  Session session(*loaded->model, options);
  auto out = session.eval(*ids, LogitsMode::kAll);
  if (!out) return report_error(out.error());

  FILE* f = std::fopen(args.out_path.c_str(), "wb");
  if (f == nullptr) return report_error(invalid_argument("cannot open '" + args.out_path + "' for writing"));
  const size_t written = std::fwrite(out->data(), sizeof(float), out->size(), f);
  const bool closed = std::fclose(f) == 0;
  if (written != out->size() || !closed) return report_error(internal_error("short write to '" + args.out_path + "'"));

  std::string json = "[";
  for (size_t i = 0; i < ids->size(); ++i) json += (i ? ", " : "") + std::to_string((*ids)[i]);
  std::printf("%s]\n", json.c_str());
  return 0;
}

}  // namespace

void register_logits(CLI::App& app) {
  auto args = std::make_shared<LogitsArgs>();
  CLI::App* cmd = app.add_subcommand("logits", "Write every position's logits as raw f32 [n_tokens, n_vocab]");
  cmd->add_option("-m,--model", args->model_path, "GGUF model file")->required();
  cmd->add_option("-p,--prompt", args->prompt, "Prompt text (BOS added where the model wants one)");
  cmd->add_option("--ids", args->ids, "Comma-separated token ids instead of -p (teacher forcing)");
  cmd->add_option("--out", args->out_path, "Output file")->required();
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)");
  cmd->add_flag("--no-bos", args->no_bos, "Do not add BOS to -p");
  cmd->add_flag("--reference", args->reference, "Use the plain f32 reference path");
  cmd->callback([args] {
    const int code = logits(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
