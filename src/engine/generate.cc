#include "engine/generate.h"

#include <algorithm>
#include <chrono>


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
  OutputProcessor output(tokenizer, request.stop, request.ignore_eos, request.max_tokens);
  const auto gen_start = std::chrono::steady_clock::now();
  bool keep_going = true;
  OutputProcessor::Step step;
  if (request.max_tokens == 0) step = output.finish(FinishReason::kLength);
  while (!output.finished()) {
    const int32_t token = sampler.sample(logits->data());
    step = output.on_token(token);
    if (step.accepted) {
      sampler.accept(token);
      result.tokens.push_back(token);
    }
    if (!step.text.empty()) {
      result.text += step.text;
      if (on_text) keep_going = on_text(step.text);
    }
    if (output.finished()) break;
    if (!keep_going) {
      step = output.finish(FinishReason::kStop);
      break;
    }
    if (session.n_past() + 1 > session.n_ctx()) {
      step = output.finish(FinishReason::kContextFull);
      if (!step.text.empty()) {
        result.text += step.text;
        if (on_text) on_text(step.text);
      }
      break;
    }
    logits = session.eval({token});
    if (!logits) return logits.error();
  }
  result.finish = step.reason;
  result.generate_seconds = seconds_since(gen_start);
  return result;
}

}  // namespace frugal
