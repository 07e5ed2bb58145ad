// A guard model run by frugal's own LLM engine (server layer): the trust::GuardClassifier the
// moderator asks when the operator names --guard-model. The prompt (trust/llama_guard.h) is
// tokenized with control tokens parsed outside the user's text, generated greedily for at most
// kGuardMaxTokens tokens (the answer is "safe" or "unsafe\nS1,S2"), and returned as text.
// Threading contract: classify() is thread-safe (the engine takes concurrent requests).
#pragma once

#include <chrono>
#include <string>

#include "engine/llm_engine.h"
#include "tokenizer/tokenizer.h"
#include "trust/moderator.h"

namespace frugal {

// "unsafe\nS1,S2,S3,S4,S5,S6,S7,S8,S9,S10,S11,S12,S13,S14" is at most ~45 tokens in Llama 3's vocabulary.
inline constexpr int64_t kGuardMaxTokens = 48;

class EngineGuard final : public trust::GuardClassifier {
 public:
  // engine and tokenizer must outlive this; `timeout` bounds one classification (then an error,
  // which the moderator treats as an unparseable answer).
  EngineGuard(LlmEngine& engine, const Tokenizer& tokenizer, std::chrono::milliseconds timeout);
  Expected<std::string> classify(const trust::GuardPrompt& prompt) const override;

 private:
  LlmEngine& engine_;
  const Tokenizer& tokenizer_;
  std::chrono::milliseconds timeout_;
};

}  // namespace frugal
