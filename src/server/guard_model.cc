#include "server/guard_model.h"

#include "engine/request.h"

namespace frugal {

EngineGuard::EngineGuard(LlmEngine& engine, const Tokenizer& tokenizer, std::chrono::milliseconds timeout)
    : engine_(engine), tokenizer_(tokenizer), timeout_(timeout) {}

Expected<std::string> EngineGuard::classify(const trust::GuardPrompt& prompt) const {
  EngineRequest request;
  request.prompt = tokenizer_.encode(prompt.text, /*add_special=*/false, /*parse_special=*/true,
                                     {TextSpan{prompt.message_begin, prompt.message_end}});
  if (request.prompt.empty()) return invalid_argument("the guard prompt tokenized to nothing");
  request.sampling.temperature = 0;  // greedy: the same prompt gets the same verdict
  request.max_tokens = kGuardMaxTokens;
  request.allow_speculation = false;
  auto stream = engine_.submit(std::move(request));
  if (!stream) return stream.error();
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  std::string answer;
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<GenerationEvent> event = (*stream)->pop(std::chrono::milliseconds(100));
    if (!event) continue;
    if (event->kind == GenerationEvent::Kind::kText) {
      answer += event->text;
    } else if (event->kind == GenerationEvent::Kind::kFinished) {
      return answer;
    } else {
      return event->error;
    }
  }
  (*stream)->cancel();
  return unavailable("the guard model did not answer within " + std::to_string(timeout_.count()) + " ms");
}

}  // namespace frugal
