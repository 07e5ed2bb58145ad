// Text generation over a Session (engine layer): prompt evaluation, the sampling loop, EOG and stop
// strings, max tokens, streaming of valid UTF-8 text, timings.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"
#include "engine/output_processor.h"
#include "engine/session.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace frugal {

struct GenerateRequest {
  std::vector<int32_t> prompt;     // token ids, BOS included where the model wants one
  SamplingParams sampling;
  int64_t max_tokens = 128;        // < 0: until the context is full
  std::vector<std::string> stop;   // stop strings (not included in the output)
  bool ignore_eos = false;
};

struct GenerateResult {
  std::vector<int32_t> tokens;     // generated token ids (EOG token excluded)
  std::string text;                // generated text (stop string excluded)
  FinishReason finish = FinishReason::kLength;
  int64_t n_prompt = 0;
  int64_t n_prompt_cached = 0;     // prompt tokens reused from the session's history
  double prompt_seconds = 0.0;
  double generate_seconds = 0.0;
};

// Called with each new piece of valid UTF-8 text; return false to stop generation early.
using TextCallback = std::function<bool(std::string_view text)>;

// Validates and runs a request. Errors: empty prompt, prompt longer than the context, invalid
// sampling parameters, stop-string list too long.
Expected<GenerateResult> generate(Session& session, const Tokenizer& tokenizer, const GenerateRequest& request,
                                  const TextCallback& on_text = nullptr);

}  // namespace frugal
