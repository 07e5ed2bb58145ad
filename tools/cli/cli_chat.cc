// `frugal chat`: an interactive terminal chat that streams the reply token by token. Each turn
// renders the whole conversation with the model's chat template; the session keeps its KV cache,
// so only the new turn is evaluated (generate() reuses the common prefix). Commands: /reset, /exit.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli_common.h"
#include "engine/generate.h"
#include "tokenizer/chat_template.h"

namespace frugal::cli {
namespace {

struct ChatArgs {
  std::string model_path;
  std::string system;
  int64_t n_predict = 256;
  int threads = 0;
  int64_t n_ctx = 0;
  SamplingParams sampling;
};

class ChatLoop {
 public:
  ChatLoop(const LoadedModel& loaded, const ChatArgs& args) : loaded_(loaded), args_(args) {
    auto template_text = loaded.model->file().get_string_or("tokenizer.chat_template", "");
    format_ = detect_chat_format(template_text ? *template_text : "");
    const Tokenizer& tok = *loaded.tokenizer;
    bos_ = tok.bos_id() >= 0 ? tok.token_text(tok.bos_id()) : "";
    eos_ = tok.eos_id() >= 0 ? tok.token_text(tok.eos_id()) : "";
    reset();
  }

  void reset() {
    messages_.clear();
    if (!args_.system.empty()) messages_.push_back({"system", args_.system});
  }

  // One user turn: streams the reply to stdout. Errors are printed and the turn is dropped.
  void turn(Session& session, const std::string& user_text) {
    messages_.push_back({"user", user_text});
    auto rendered = apply_chat_template(format_, messages_, /*add_generation_prompt=*/true, bos_, eos_);
    if (!rendered) {
      std::fprintf(stderr, "frugal: %s\n", rendered.error().to_string().c_str());
      messages_.pop_back();
      return;
    }
    GenerateRequest request;
    request.prompt = loaded_.tokenizer->encode(*rendered, !template_adds_bos(format_), /*parse_special=*/true);
    request.sampling = args_.sampling;
    request.max_tokens = args_.n_predict;
    auto result = generate(session, *loaded_.tokenizer, request, [](std::string_view text) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (!result) {
      std::fprintf(stderr, "frugal: %s (use /reset to start over)\n", result.error().to_string().c_str());
      messages_.pop_back();
      return;
    }
    messages_.push_back({"assistant", result->text});
  }

 private:
  const LoadedModel& loaded_;
  const ChatArgs& args_;
  ChatFormat format_ = ChatFormat::kChatML;
  std::string bos_, eos_;
  std::vector<ChatMessage> messages_;
};

int chat(const ChatArgs& args) {
  auto loaded = load_model(args.model_path);
  if (!loaded) return report_error(loaded.error());
  Status valid = args.sampling.validate();
  if (!valid.is_ok()) return report_error(valid);
  SessionOptions options;
  options.num_threads = args.threads;
  options.n_ctx = args.n_ctx;
  Session session(*loaded->model, options);
  ChatLoop loop(*loaded, args);
  const bool interactive = ::isatty(0);
  if (interactive) std::fprintf(stderr, "frugal chat: type a message; /reset starts over, /exit or Ctrl-D quits\n");
  std::string line;
  for (;;) {
    if (interactive) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line) || line == "/exit" || line == "/quit") break;
    if (line.empty()) continue;
    if (line == "/reset") {
      loop.reset();
      session.truncate(0);
      continue;
    }
    loop.turn(session, line);
  }
  return 0;
}

}  // namespace

void register_chat(CLI::App& app) {
  auto args = std::make_shared<ChatArgs>();
  args->sampling.temperature = 0.7f;
  CLI::App* cmd = app.add_subcommand("chat", "Interactive chat in the terminal (streams the replies)");
  cmd->add_option("-m,--model", args->model_path, "GGUF model file")->required();
  cmd->add_option("--system", args->system, "System message");
  cmd->add_option("-n,--n-predict", args->n_predict, "Most tokens per reply")->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)");
  cmd->add_option("-c,--ctx-size", args->n_ctx, "Context size (0 = the model's)");
  add_sampling_flags(*cmd, args->sampling);
  cmd->callback([args] {
    const int code = chat(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
