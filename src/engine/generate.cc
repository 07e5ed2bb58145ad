#include "engine/generate.h"

#include <algorithm>
#include <chrono>

#include "sampling/stop_strings.h"

namespace frugal {
namespace {

// OpenAI allows up to 4 stop sequences; we allow more but bound the matcher's work per token.
constexpr size_t kMaxStopStrings = 16;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Status validate(const Session& session, const GenerateRequest& request) {
  if (request.prompt.empty()) return invalid_argument("prompt is empty");
  const int64_t n_prompt = static_cast<int64_t>(request.prompt.size());
  if (n_prompt >= session.n_ctx()) {
    return invalid_argument("prompt of " + std::to_string(n_prompt) + " tokens does not fit the context of " +
                            std::to_string(session.n_ctx()) + " tokens (it needs room for at least one more)");
  }
  if (request.stop.size() > kMaxStopStrings) {
    return invalid_argument("too many stop strings: " + std::to_string(request.stop.size()) + " (max " +
                            std::to_string(kMaxStopStrings) + ")");
  }
  for (const auto& s : request.stop) {
    if (s.empty()) return invalid_argument("stop strings must not be empty");
  }
  return request.sampling.validate();
}

// Reuses the longest common prefix of the session's history and the prompt; returns its length.
int64_t reuse_prefix(Session& session, const std::vector<int32_t>& prompt) {
  const auto& history = session.history();
  size_t common = 0;
  while (common < history.size() && common < prompt.size() && history[common] == prompt[common]) ++common;
  // At least the last prompt token must be evaluated to produce logits.
  common = std::min(common, prompt.size() - 1);
  session.truncate(static_cast<int64_t>(common));
  return static_cast<int64_t>(common);
}

}  // namespace

std::string_view finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kContextFull: return "context_full";
  }
  return "unknown";
}

Expected<GenerateResult> generate(Session& session, const Tokenizer& tokenizer, const GenerateRequest& request,
                                  const TextCallback& on_text) {
  Status valid = validate(session, request);
  if (!valid.is_ok()) return valid;

  GenerateResult result;
  result.n_prompt = static_cast<int64_t>(request.prompt.size());
  const auto prompt_start = std::chrono::steady_clock::now();
  result.n_prompt_cached = reuse_prefix(session, request.prompt);
  std::vector<int32_t> pending(request.prompt.begin() + result.n_prompt_cached, request.prompt.end());
  auto logits = session.eval(pending);
  if (!logits) return logits.error();
  result.prompt_seconds = seconds_since(prompt_start);

  Sampler sampler(request.sampling, static_cast<int32_t>(session.model().config().n_vocab));
  for (int32_t token : request.prompt) sampler.accept(token);
  StreamingDecoder decoder(tokenizer, /*special=*/false);
  StopStringMatcher stops(request.stop);
  auto emit = [&](const std::string& text) -> bool {
    if (text.empty()) return true;
    result.text += text;
    return on_text ? on_text(text) : true;
  };

  const auto gen_start = std::chrono::steady_clock::now();
  bool keep_going = true;
  result.finish = FinishReason::kLength;
  while (keep_going) {
    if (request.max_tokens >= 0 && static_cast<int64_t>(result.tokens.size()) >= request.max_tokens) break;
    const int32_t token = sampler.sample(logits->data());
    if (!request.ignore_eos && tokenizer.is_eog(token)) {
      result.finish = FinishReason::kStop;
      break;
    }
    sampler.accept(token);
    result.tokens.push_back(token);
    keep_going = emit(stops.push(decoder.push(token)));
    if (stops.stopped()) {
      result.finish = FinishReason::kStop;
      break;
    }
    if (!keep_going) break;
    if (request.max_tokens >= 0 && static_cast<int64_t>(result.tokens.size()) >= request.max_tokens) break;
    if (session.n_past() + 1 > session.n_ctx()) {
      result.finish = FinishReason::kContextFull;
      break;
    }
    logits = session.eval({token});
    if (!logits) return logits.error();
  }
  if (!stops.stopped()) emit(stops.push(decoder.flush()) + stops.flush());
  result.generate_seconds = seconds_since(gen_start);
  return result;
}

}  // namespace frugal
