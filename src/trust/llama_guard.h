// The Llama Guard 3 protocol (trust layer, pure text): the prompt a guard model reads and the
// answer it writes. Running the model is the caller's (server/guard_model.h runs it on frugal's own
// engine); this file only formats and parses, so both are unit-tested without a model.
//
// Prompt (Meta's Llama Guard 3 model card, user-message classification): the Llama 3 chat header,
// the task line, the 14 categories S1..S14 between <BEGIN/END UNSAFE CONTENT CATEGORIES>, the
// conversation ("User: <text>") between <BEGIN/END CONVERSATION>, the two answer rules, then the
// assistant header. Answer: first line "safe" or "unsafe"; if unsafe, a second line with a
// comma-separated list of codes ("S1,S10").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace frugal::trust {

// The Llama Guard 3 hazard categories, [14]: "S1: Violent Crimes." ...
const std::vector<std::string>& llama_guard_categories();

// The full prompt for one user message: "<|begin_of_text|>" and the header tokens are spelled as
// text, so the tokenizer must parse special tokens everywhere EXCEPT in the message's byte range
// [message_begin, message_end), which is the caller's text (no injection of control tokens).
struct GuardPrompt {
  std::string text;
  size_t message_begin = 0;
  size_t message_end = 0;
};
GuardPrompt format_llama_guard_prompt(std::string_view user_message);

enum class GuardOutcome { kSafe, kUnsafe, kUnparseable };

struct GuardAnswer {
  GuardOutcome outcome = GuardOutcome::kUnparseable;
  std::vector<std::string> codes;  // kUnsafe: "S1", "S10", ... (may be empty: no second line)
};

// NOTE (the parsing rule): leading whitespace is skipped; the first line, trimmed and lower-cased,
// must be exactly "safe" or "unsafe" (anything else, including an empty answer, is kUnparseable).
// After "unsafe", the next non-empty line is split on commas; items that are not S<number> are
// dropped (so "unsafe\nS1, S99x" gives ["S1"]). Text after "safe" is ignored.
GuardAnswer parse_llama_guard_answer(std::string_view answer);

}  // namespace frugal::trust
