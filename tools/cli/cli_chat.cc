// `frugal chat`: an interactive terminal chat that streams the reply token by token. Each turn
// renders the whole conversation with the model's chat template; the session keeps its KV cache,
// so only the new turn is evaluated (generate() reuses the common prefix). Commands: /reset, /exit.
//
// Context: before each turn the oldest user/assistant turns are dropped (the system prompt is
// kept) until the prompt leaves room for a reply, and the chat says so. A reply gets -n tokens, or
// by default what fits: the model's recommended max_tokens (frugal.sampling.max_tokens) or a
// quarter of the context, never more than the room left. Ctrl-C during a reply stops that reply
// (the chat goes on; the partial reply stays in the conversation); at the prompt it quits.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli_common.h"
#include "engine/generate.h"
#include "engine/sampling_defaults.h"
#include "tokenizer/chat_template.h"

namespace frugal::cli {
namespace {

struct ChatArgs {
  std::string model_path;
  std::string system;
  int64_t n_predict = -1;  // -1: what fits
  int threads = 0;
  int64_t n_ctx = 0;
  SamplingParams sampling;
  SamplingFlagOptions sampling_flags;
};

// Set by SIGINT while a reply streams (the handler is installed only then).
std::atomic<bool> g_stop_reply{false};

void on_sigint(int) { g_stop_reply.store(true); }

// Installs the reply's SIGINT handler for its lifetime, then restores the default (quit).
class ReplyInterrupt {
 public:
  ReplyInterrupt() {
    g_stop_reply.store(false);
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
  }
  ~ReplyInterrupt() { sigaction(SIGINT, &previous_, nullptr); }
  ReplyInterrupt(const ReplyInterrupt&) = delete;
  ReplyInterrupt& operator=(const ReplyInterrupt&) = delete;

 private:
  struct sigaction previous_ {};
};

class ChatLoop {
 public:
  ChatLoop(const LoadedModel& loaded, const ChatArgs& args, int64_t n_ctx, std::optional<int64_t> recommended_max_tokens)
      : loaded_(loaded), args_(args), n_ctx_(n_ctx) {
    auto template_text = loaded.model->file().get_string_or("tokenizer.chat_template", "");
    format_ = detect_chat_format(template_text ? *template_text : "");
    const Tokenizer& tok = *loaded.tokenizer;
    bos_ = tok.bos_id() >= 0 ? tok.token_text(tok.bos_id()) : "";
    eos_ = tok.eos_id() >= 0 ? tok.token_text(tok.eos_id()) : "";
    // Tokens a reply needs room for: -n, else the model's recommendation, else a quarter of the context.
    reply_room_ = args.n_predict > 0 ? args.n_predict : recommended_max_tokens.value_or(std::max<int64_t>(16, n_ctx / 4));
    reply_room_ = std::min(reply_room_, n_ctx_ - 1);
    reset();
  }

  void reset() {
    messages_.clear();
    if (!args_.system.empty()) messages_.push_back({"system", args_.system});
  }

  // One user turn: streams the reply to stdout. Errors are printed and the turn is dropped.
  void turn(Session& session, const std::string& user_text) {
    messages_.push_back({"user", user_text});
    auto prompt = fitting_prompt();
    if (!prompt) {
      std::fprintf(stderr, "frugal chat: %s\n", prompt.error().message().c_str());
      messages_.pop_back();
      return;
    }
    GenerateRequest request;
    request.prompt = std::move(*prompt);
    request.sampling = args_.sampling;
    const int64_t room = n_ctx_ - static_cast<int64_t>(request.prompt.size());
    request.max_tokens = args_.n_predict > 0 ? std::min(args_.n_predict, room) : std::min(reply_room_, room);
    Expected<GenerateResult> result = invalid_argument("no reply");
    {
      ReplyInterrupt interrupt;
      result = generate(session, *loaded_.tokenizer, request, [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return !g_stop_reply.load();
      });
    }
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (g_stop_reply.load()) std::fprintf(stderr, "frugal chat: reply stopped (Ctrl-C); the chat goes on\n");
    if (!result) {
      std::fprintf(stderr, "frugal: %s (use /reset to start over)\n", result.error().to_string().c_str());
      messages_.pop_back();
      return;
    }
    messages_.push_back({"assistant", result->text});
  }

 private:
  Expected<std::vector<int32_t>> render() const {
    auto rendered = apply_chat_template(format_, messages_, /*add_generation_prompt=*/true, bos_, eos_);
    if (!rendered) return rendered.error();
    return loaded_.tokenizer->encode(*rendered, !template_adds_bos(format_), /*parse_special=*/true);
  }

  // The conversation's tokens, after dropping the oldest turns until a reply has room.
  Expected<std::vector<int32_t>> fitting_prompt() {
    const size_t first_turn = !messages_.empty() && messages_.front().role == "system" ? 1 : 0;
    size_t dropped = 0;
    for (;;) {
      auto tokens = render();
      if (!tokens) return tokens.error();
      const int64_t n = static_cast<int64_t>(tokens->size());
      if (n + reply_room_ <= n_ctx_) {
        if (dropped > 0) {
          std::fprintf(stderr, "frugal chat: context full (%lld tokens): dropped the %zu oldest message(s)%s\n",
                       static_cast<long long>(n_ctx_), dropped, first_turn ? ", kept the system prompt" : "");
        }
        return tokens;
      }
      // Only the system prompt and this message are left: they alone do not leave room for a reply.
      if (messages_.size() <= first_turn + 1) {
        return invalid_argument("the message needs " + std::to_string(n) + " tokens; with " +
                                std::to_string(reply_room_) + " for the reply that exceeds the context of " +
                                std::to_string(n_ctx_) + " tokens (shorten it, lower -n or /reset)");
      }
      // Drop the oldest turn: a user message and the assistant reply after it.
      auto begin = messages_.begin() + static_cast<std::ptrdiff_t>(first_turn);
      const size_t count = messages_.size() - first_turn > 2 && (begin + 1)->role == "assistant" ? 2 : 1;
      messages_.erase(begin, begin + static_cast<std::ptrdiff_t>(count));
      dropped += count;
    }
  }

  const LoadedModel& loaded_;
  const ChatArgs& args_;
  int64_t n_ctx_;
  int64_t reply_room_ = 0;
  ChatFormat format_ = ChatFormat::kChatML;
  std::string bos_, eos_;
  std::vector<ChatMessage> messages_;
};

int chat(ChatArgs& args) {
  auto loaded = load_model(args.model_path);
  if (!loaded) return report_error(loaded.error());
  auto defaults = read_sampling_defaults(loaded->model->file());
  if (!defaults) return report_error(defaults.error());
  apply_sampling_defaults(*defaults, sampling_given(args.sampling_flags), args.sampling);
  Status valid = args.sampling.validate();
  if (!valid.is_ok()) return report_error(valid);
  SessionOptions options;
  options.num_threads = args.threads;
  options.n_ctx = args.n_ctx;
  Session session(*loaded->model, options);
  if (args.n_predict >= session.n_ctx()) {
    return report_error(invalid_argument("-n " + std::to_string(args.n_predict) + " leaves no room for a prompt in the " +
                                         std::to_string(session.n_ctx()) + "-token context"));
  }
  ChatLoop loop(*loaded, args, session.n_ctx(), defaults->max_tokens);
  const bool interactive = ::isatty(0);
  if (interactive) {
    std::fprintf(stderr, "frugal chat: type a message; /reset starts over, /exit or Ctrl-D quits, Ctrl-C stops a reply\n");
  }
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
  cmd->add_option("-n,--n-predict", args->n_predict,
                  "Most tokens per reply (-1: what fits: the model's recommended max_tokens or a quarter of the "
                  "context, within the room left)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", args->threads, "Threads (0 = all cores)");
  cmd->add_option("-c,--ctx-size", args->n_ctx, "Context size (0 = the model's)");
  args->sampling_flags = add_sampling_flags(*cmd, args->sampling);
  cmd->callback([args] {
    const int code = chat(*args);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace frugal::cli
