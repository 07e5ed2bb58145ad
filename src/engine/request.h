// The serving engine's request and event types (engine layer): what the HTTP server submits and
// what it receives back, token by token.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/generate.h"
#include "grammar/grammar.h"
#include "sampling/sampler.h"

namespace frugal {

using RequestId = uint64_t;

struct EngineRequest {
  std::vector<int32_t> prompt;     // token ids (BOS included where the model wants one)
  SamplingParams sampling;         // validated by submit()
  int64_t max_tokens = 256;        // < 0: until the context is full
  std::vector<std::string> stop;   // stop strings, not included in the output
  bool ignore_eos = false;
  int32_t priority = 0;            // higher runs first; FCFS within a priority
  int32_t top_logprobs = -1;       // -1: no logprobs; 0..20: chosen token's logprob + this many alternatives
  bool allow_speculation = true;   // false: this request never speculates (per-request opt-out)
  // Structured output (grammar/): every token is masked to keep the output in the grammar's
  // language and finishable within max_tokens; the request never speculates. null: free text.
  std::shared_ptr<const Grammar> grammar;
  // "" constrains from the first token; otherwise the output is free unless it starts with this
  // text (a tool call's opening, for tool_choice "auto").
  std::string grammar_trigger;
};

struct TokenLogprobs {
  int32_t token = -1;
  float logprob = 0.0f;
  std::vector<Sampler::TokenLogprob> top;  // sorted by logprob, descending
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;       // prompt tokens served from the prefix cache
  double compute_seconds = 0;      // the request's share of the engine steps it ran in (see cost_meter.h)
  double cost_usd = 0;             // compute_seconds at the engine's price per hour; 0 = no price set
};

struct GenerationEvent {
  enum class Kind { kText, kFinished, kError };
  Kind kind = Kind::kText;
  std::string text;                       // kText: new valid UTF-8 text (stop strings withheld)
  std::vector<int32_t> token_ids;         // tokens generated since the previous event
  std::vector<TokenLogprobs> logprobs;    // one per token in token_ids when requested
  FinishReason finish = FinishReason::kLength;  // kFinished
  Usage usage;                            // kFinished
  Status error;                           // kError (e.g. the engine is shutting down)
};

// One request's event queue: the engine thread pushes, one consumer (an HTTP handler) pops.
// Threading contract: push from the engine thread, pop/cancel from the consumer; thread-safe.
class RequestStream {
 public:
  explicit RequestStream(RequestId id) : id_(id) {}
  RequestId id() const { return id_; }

  void push(GenerationEvent event);
  // Waits up to `timeout` for the next event; nullopt on timeout.
  std::optional<GenerationEvent> pop(std::chrono::milliseconds timeout);
  // The consumer went away (client disconnected); the engine frees the request's blocks by its next step.
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }
  bool finished() const { return finished_.load(); }

 private:
  RequestId id_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<GenerationEvent> events_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> finished_{false};
};

}  // namespace frugal
