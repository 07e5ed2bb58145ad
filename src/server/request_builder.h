// Validated API requests -> engine requests (server layer): tokenizes prompts (raw text with BOS,
// or the chat template rendered and tokenized with specials), checks them against the model's
// vocabulary and context, and fans out n choices per prompt.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/request.h"
#include "server/openai_schema.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace frugal {

// What the request builder needs to know about the served model.
struct PromptModel {
  const Tokenizer* tokenizer = nullptr;
  ChatFormat chat_format = ChatFormat::kChatML;
  int64_t max_context = 0;  // tokens per sequence; 0 = unknown (no length checks here)
  // false (the default): chat message content is plain text, only the template's markers become
  // control tokens. true (serve --allow-special-in-content, trusted callers): control-token texts
  // in content are parsed as control tokens too.
  bool allow_special_in_content = false;
};

// OpenAI's default max_tokens for /v1/completions.
inline constexpr int64_t kDefaultCompletionMaxTokens = 16;

// The prompt token ids of each prompt (completions) or the one rendered conversation (chat).
std::optional<InvalidField> tokenize_prompts(const ApiRequest& request, const PromptModel& model,
                                             std::vector<std::vector<int32_t>>& prompts);

// One engine request per (prompt, choice), ordered prompt_idx * n + choice_idx (OpenAI's choice
// index). Choice i > 0 of a seeded request uses seed + i, so the n choices differ yet reproduce.
std::optional<InvalidField> build_engine_requests(const ApiRequest& request, const PromptModel& model,
                                                  const std::vector<std::vector<int32_t>>& prompts,
                                                  std::vector<EngineRequest>& out);

}  // namespace frugal
