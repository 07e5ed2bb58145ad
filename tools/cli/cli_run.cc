// `frugal run`: generate text from a prompt, streaming it to stdout, then a one-line summary.
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "cli_common.h"
#include "engine/generate.h"
#include "engine/llm_engine.h"
#include "spec_flags.h"
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
  SamplingFlagOptions sampling_flags;
  SpecFlags spec;
};

// Speculative decoding runs in the batched engine (one request): streams the text, then prints the
// summary with the acceptance rate read from the engine's metrics.
int run_speculative(const LoadedModel& loaded, const RunArgs& args, std::vector<int32_t> prompt) {
  auto setup = resolve_spec_flags(args.spec, *loaded.model);
  if (!setup) return report_error(setup.error());
  if (args.n_predict == 0) {  // as the plain path: nothing to generate
    std::fputc('\n', stdout);
    return 0;
  }
  EngineOptions options;
  options.num_threads = args.threads;
  options.max_context = args.n_ctx;
  options.max_running = 1;
  options.speculation = setup->options;
  MetricsRegistry registry;
  auto engine = LlmEngine::create(*loaded.model, *loaded.tokenizer, options, &registry, setup->draft.get());
  if (!engine) return report_error(engine.error());
  EngineRequest request;
  const int64_t n_prompt = static_cast<int64_t>(prompt.size());
  request.prompt = std::move(prompt);
  request.sampling = args.sampling;
  request.max_tokens = args.n_predict;
  request.stop = args.stop;
  request.ignore_eos = args.ignore_eos;
  const auto start = std::chrono::steady_clock::now();
  auto stream = (*engine)->submit(std::move(request));
  if (!stream) return report_error(stream.error());
  std::optional<std::chrono::steady_clock::time_point> first_token;
  GenerationEvent last;
  for (;;) {
    auto event = (*stream)->pop(std::chrono::milliseconds(100));
    if (!event) continue;
    if (event->kind != GenerationEvent::Kind::kText) {
      last = std::move(*event);
      break;
    }
    if (!first_token && !event->token_ids.empty()) first_token = std::chrono::steady_clock::now();
    std::fwrite(event->text.data(), 1, event->text.size(), stdout);
    std::fflush(stdout);
  }
  std::fputc('\n', stdout);
  std::fflush(stdout);  // the text's last line ends before the summary (stderr) starts, even when both go to one pipe
  const auto end = std::chrono::steady_clock::now();
  (*engine)->shutdown(std::chrono::milliseconds(0));
  if (last.kind == GenerationEvent::Kind::kError) return report_error(last.error);
  const double gen_s = first_token ? std::chrono::duration<double>(end - *first_token).count() : 0;
  const int64_t n_gen = last.usage.completion_tokens;
  const std::string text = registry.render();
  auto counter = [&](const std::string& name) {
    const size_t at = text.find("\n" + name + " ");
    return at == std::string::npos ? 0.0 : std::stod(text.substr(at + name.size() + 2));
  };
  const double proposed = counter("frugal_spec_proposed_tokens_total");
  const double accepted = counter("frugal_spec_accepted_tokens_total");
  std::fprintf(stderr,
               "frugal: prompt %lld tokens, generated %lld tokens in %.2f s (%.1f tok/s after the first), "
               "speculation %s: %.0f/%.0f proposals accepted (%.1f %%), finish: %s\n",
               static_cast<long long>(n_prompt), static_cast<long long>(n_gen),
               std::chrono::duration<double>(end - start).count(), gen_s > 0 ? (n_gen - 1) / gen_s : 0.0,
               std::string(spec_mode_name(setup->options.mode)).c_str(), accepted, proposed,
               proposed > 0 ? 100.0 * accepted / proposed : 0.0, std::string(finish_reason_name(last.finish)).c_str());
  return 0;
}

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

int run(RunArgs& args) {
  auto loaded = load_model(args.model_path);
  if (!loaded) return report_error(loaded.error());
  auto defaults = read_sampling_defaults(loaded->model->file());  // fill the sampling flags not given
  if (!defaults) return report_error(defaults.error());
  apply_sampling_defaults(*defaults, sampling_given(args.sampling_flags), args.sampling);
  auto prompt = build_prompt(*loaded, args);
  if (!prompt) return report_error(prompt.error());
  if (!args.spec.draft_path.empty() || !args.spec.medusa_path.empty() || (!args.spec.mode.empty() && args.spec.mode != "off")) {
    if (args.reference) return report_error(invalid_argument("--reference does not combine with speculation"));
    if (!args.chat) std::fputs(args.prompt.c_str(), stdout);
    std::fflush(stdout);
    return run_speculative(*loaded, args, std::move(*prompt));
  }

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
  args->sampling_flags = add_sampling_flags(*cmd, args->sampling);
  add_spec_flags(*cmd, args->spec);
  cmd->callback([args] {
    const int code = run(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
