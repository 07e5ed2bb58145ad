// LlmEngine: continuous batching over a paged KV cache (engine layer). A dedicated engine thread
// runs steps: the scheduler picks running decodes plus chunked prefills under a token budget,
// one batched forward pass runs them all (weights read once per step), tokens are sampled and
// streamed to each request's RequestStream. Out of KV blocks -> the lowest-priority, latest
// request is preempted (its blocks freed, recomputed later); never an error.
// Threading contract: submit/cancel/snapshot/shutdown are thread-safe (any HTTP thread).
#pragma once

#include <chrono>
#include <memory>

#include "core/expected.h"
#include "engine/request.h"
#include "engine/speculation.h"
#include "metrics/metrics.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace frugal {

struct EngineOptions {
  int num_threads = 0;              // 0 = default_num_threads()
  int64_t kv_mem_bytes = 0;         // KV budget; 0 = fit: min(n_ctx * max_running rows, 25% of free memory)
  int32_t block_size_tokens = 16;
  int32_t max_running = 64;         // sequences in a batch at once
  int32_t max_waiting = 256;        // bounded queue: submit() beyond it -> kResourceExhausted (429)
  // Tokens per forward pass (decodes, speculative proposals and prefill chunks). 256: prefill on a
  // CPU is compute-bound from ~16 tokens on, so larger steps only delay first tokens and stall the
  // running decodes (a 1B model at ~120 prefill tok/s: ~2 s per full step), while 32 sequences
  // still fit a full k = 6 verification each (see docs/PERFORMANCE.md, serving).
  int32_t step_token_budget = 256;
  int64_t max_context = 0;          // per-sequence token limit; 0 = the model's n_ctx_train
  bool prefix_caching = true;
  double usd_per_hour = 0;          // live cost meter price; 0 = none (cost_usd 0, compute seconds still metered)
  double cost_window_seconds = 60;  // sliding window of the $/million-tokens gauges
  SpecOptions speculation;          // speculative decoding (off by default; see speculation.h)
};

struct EngineSnapshot {
  int32_t running = 0;
  int32_t waiting = 0;
  int32_t kv_blocks_used = 0;
  int32_t kv_blocks_total = 0;
  int32_t block_size_tokens = 0;
  int64_t max_context = 0;
  bool shutting_down = false;
};

class LlmEngine {
 public:
  // The model, tokenizer and draft must outlive the engine. `metrics` may be null; `draft` is the
  // draft model for options.speculation.mode == kDraft (same vocabulary as the target).
  static Expected<std::unique_ptr<LlmEngine>> create(const Model& model, const Tokenizer& tokenizer,
                                                     const EngineOptions& options, MetricsRegistry* metrics,
                                                     const Model* draft = nullptr);
  virtual ~LlmEngine() = default;

  // Queues a request. Errors: kInvalidArgument (empty prompt, max_tokens == 0, prompt + 1 > max_context, bad
  // sampling params, too many stop strings), kResourceExhausted (queue full: HTTP 429),
  // kUnavailable (shutting down: HTTP 503).
  virtual Expected<std::shared_ptr<RequestStream>> submit(EngineRequest request) = 0;
  virtual EngineSnapshot snapshot() const = 0;
  // Stops admitting requests, lets running ones finish for up to `drain`, then fails the rest
  // with a kUnavailable kError event, and joins the engine thread.
  virtual void shutdown(std::chrono::milliseconds drain) = 0;
};

}  // namespace frugal
