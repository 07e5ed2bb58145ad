// `frugal run`: generate text from a prompt, streaming it to stdout, then a one-line summary.
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "engine/generate.h"
#include "tokenizer/chat_template.h"

namespace frugal::cli {
namespace {

struct RunArgs {
  std::string model_path;
  std::string prompt;
  std::string system;
  int64_t n_predict = 128;
  int threads = 0;
  int64_t n_ctx = 0;
  bool chat = false;
  bool ignore_eos = false;
  bool reference = false;
  std::vector<std::string> stop;
  SamplingParams sampling;
};

// The prompt's token ids: raw text with BOS, or the chat template's rendering with specials parsed.
Expected<std::vector<int32_t>> build_prompt(const LoadedModel& loaded, const RunArgs& args) {
  const Tokenizer& tok = *loaded.tokenizer;
  if (!args.chat) return tok.encode(args.prompt, /*add_special=*/true, /*parse_special=*/false);
  auto template_text = loaded.model->file().get_string_or("tokenizer.chat_template", "");
  if (!template_text) return template_text.error();
  const ChatFormat format = detect_chat_format(*template_text);
  std::vector<ChatMessage> messages;
  if (!args.system.empty()) messages.push_back({"system", args.system});
  messages.push_back({"user", args.prompt});
  const std::string bos = tok.bos_id() >= 0 ? tok.token_text(tok.bos_id()) : "";
  const std::string eos = tok.eos_id() >= 0 ? tok.token_text(tok.eos_id()) : "";
  auto rendered = apply_chat_template(format, messages, /*add_generation_prompt=*/true, bos, eos);
  if (!rendered) return rendered.error();
  // The template writes its own BOS text where the format has one, so no second BOS is added.
  return tok.encode(*rendered, /*add_special=*/!template_adds_bos(format), /*parse_special=*/true);
}

int run(const RunArgs& args) {
  auto loaded = load_model(args.model_path);
  if (!loaded) return report_error(loaded.error());
  auto prompt = build_prompt(*loaded, args);
  if (!prompt) return report_error(prompt.error());

  SessionOptions options;
  options.num_threads = args.threads;
  options.n_ctx = args.n_ctx;
  options.path = args.reference ? MatmulPath::kReference : MatmulPath::kFast;
  Session session(*loaded->model, options);
  GenerateRequest request;
  request.prompt = std::move(*prompt);
  request.sampling = args.sampling;
  request.max_tokens = args.n_predict;
  request.stop = args.stop;
  request.ignore_eos = args.ignore_eos;
  if (!args.chat) {
    std::fputs(args.prompt.c_str(), stdout);
  }
  std::fflush(stdout);
  auto result = generate(session, *loaded->tokenizer, request, [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  std::fputc('\n', stdout);
  std::fflush(stdout);
  if (!result) return report_error(result.error());
  const double prompt_tps = result->prompt_seconds > 0 ? (result->n_prompt - result->n_prompt_cached) / result->prompt_seconds : 0;
  const double gen_tps = result->generate_seconds > 0 ? result->tokens.size() / result->generate_seconds : 0;
  std::fprintf(stderr,
               "frugal: prompt %lld tokens (%.1f tok/s), generated %zu tokens in %.2f s (%.1f tok/s), finish: %s\n",
               static_cast<long long>(result->n_prompt), prompt_tps, result->tokens.size(), result->generate_seconds,
               gen_tps, std::string(finish_reason_name(result->finish)).c_str());
  return 0;
}

}  // namespace

void register_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a prompt (streams to stdout)");
  cmd->add_option("-m,--model", args->model_path, "GGUF model file")->required();
  cmd->add_option("-p,--prompt", args->prompt, "Prompt text")->required();
  cmd->add_option("-n,--n-predict", args->n_predict, "Tokens to generate (-1 = until the context is full)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)");
  cmd->add_option("-c,--ctx-size", args->n_ctx, "Context size (0 = the model's)");
  cmd->add_flag("--chat", args->chat, "Apply the model's chat template to the prompt (as a user message)");
  cmd->add_option("--system", args->system, "System message for --chat");
  cmd->add_option("--stop", args->stop, "Stop string (repeatable)");
  cmd->add_flag("--ignore-eos", args->ignore_eos, "Keep generating past end-of-generation tokens");
  cmd->add_flag("--reference", args->reference, "Use the plain f32 reference path (slow; for checking)");
  add_sampling_flags(*cmd, args->sampling);
  cmd->callback([args] {
    const int code = run(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
