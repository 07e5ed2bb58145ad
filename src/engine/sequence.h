// Sequence: one request's state inside the serving engine (engine layer): its tokens, how many
// have K/V computed, its place in the scheduling order, and its per-request sampler and output.
// Owned by the engine; touched only on the engine thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/output_processor.h"
#include "engine/speculation.h"
#include "engine/request.h"
#include "grammar/token_constraint.h"
#include "kv/kv_cache_manager.h"
#include "sampling/sampler.h"

namespace frugal {

enum class SeqStatus { kWaiting, kRunning, kFinished };

struct Sequence {
  using Clock = std::chrono::steady_clock;

  Sequence(SeqId id_, int64_t arrival_order_, EngineRequest request_, std::shared_ptr<RequestStream> stream_,
           const Tokenizer& tokenizer, int32_t n_vocab);

  SeqId id;
  int64_t arrival_order;            // FCFS rank within a priority (kept across preemptions)
  EngineRequest request;
  std::shared_ptr<RequestStream> stream;
  std::vector<int32_t> tokens;      // prompt + generated so far
  int32_t num_prompt_tokens = 0;
  int32_t num_computed_tokens = 0;  // tokens[0..num_computed) have K/V in the cache
  int32_t num_cached_prompt_tokens = -1;  // prefix-cache hit of the first admission (-1 = not yet)
  int32_t num_preemptions = 0;
  double compute_seconds = 0;       // share of step time, recomputation after preemption included
  SeqStatus status = SeqStatus::kWaiting;
  Sampler sampler;
  OutputProcessor output;
  std::unique_ptr<TokenConstraint> constraint;  // request.grammar set: the structured-output mask

  // Tokens (and their logprobs) sampled since the last event: text can lag behind tokens while a
  // UTF-8 sequence or a possible stop string is incomplete.
  std::vector<int32_t> pending_token_ids;
  std::string pending_text;  // text of a verification's accepted tokens, streamed once per step
  std::vector<TokenLogprobs> pending_logprobs;

  // Speculative decoding (see draft_runner.h): this step's proposals (verified after tokens.back()),
  // how many leading tokens the draft model's KV covers, and the sequence's draft-length policy.
  std::vector<int32_t> spec_tokens;
  int32_t draft_computed_tokens = 0;
  DraftLength draft_length;
  // Medusa (medusa_runner.h): spec_tokens form a tree: spec_parents[i] is proposal i's parent
  // (-1 = tokens.back()); empty = a chain. The heads' candidates ([heads, ranks] token ids) were
  // computed from the row that chose tokens.back() when medusa_for_length == tokens.size().
  std::vector<int32_t> spec_parents;
  std::vector<int32_t> medusa_candidates;
  int32_t medusa_for_length = -1;
  bool medusa_wanted = false;  // this step computes the heads from the row that picks the next token

  Clock::time_point arrival_time;
  std::optional<Clock::time_point> first_scheduled_time;
  std::optional<Clock::time_point> first_token_time;
  std::optional<Clock::time_point> last_token_time;

  int32_t priority() const { return request.priority; }
  int32_t num_generated() const { return static_cast<int32_t>(tokens.size()) - num_prompt_tokens; }
  bool prefill_done() const { return num_computed_tokens >= static_cast<int32_t>(tokens.size()); }
};

// Scheduling order: higher priority first, then earlier arrival. "Runs before".
inline bool runs_before(const Sequence& a, const Sequence& b) {
  if (a.priority() != b.priority()) return a.priority() > b.priority();
  return a.arrival_order < b.arrival_order;
}

}  // namespace frugal
