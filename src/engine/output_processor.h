// OutputProcessor: turns one request's sampled tokens into streamed text and a finish decision
// (engine layer): end-of-generation tokens, stop strings (withheld from the output), max tokens,
// and valid-UTF-8-only streaming. Shared by generate() and the batched LlmEngine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sampling/stop_strings.h"
#include "tokenizer/tokenizer.h"

namespace frugal {

enum class FinishReason { kStop, kLength, kContextFull };
std::string_view finish_reason_name(FinishReason reason);  // "stop" | "length" | "context_full"

class OutputProcessor {
 public:
  // max_tokens < 0: unlimited.
  OutputProcessor(const Tokenizer& tokenizer, std::vector<std::string> stop, bool ignore_eos, int64_t max_tokens);

  struct Step {
    std::string text;           // new text safe to emit (may be empty)
    bool accepted = false;      // the token is part of the output (false for an EOG token)
    bool finished = false;
    FinishReason reason = FinishReason::kLength;
  };
  // Processes one sampled token. After `finished`, call no more. ends_document: a grammar says
  // nothing may follow this token, so generation ends with it ("stop").
  Step on_token(int32_t token, bool ends_document = false);
  // Ends generation for an outside reason (context full, cancellation): releases held text.
  Step finish(FinishReason reason);

  int64_t num_tokens() const { return num_tokens_; }
  bool finished() const { return finished_; }

 private:
  Step finish_with(Step step, FinishReason reason);

  const Tokenizer& tokenizer_;
  StreamingDecoder decoder_;
  StopStringMatcher stops_;
  bool ignore_eos_;
  int64_t max_tokens_;
  int64_t num_tokens_ = 0;
  bool finished_ = false;
};

}  // namespace frugal
