// DraftRunner: the proposing half of speculative decoding in the batched engine (engine layer).
// For the decode sequences a step speculates on, it reserves KV slots for k more tokens and fills
// each sequence's `spec_tokens` with k proposals: from the draft model (k batched greedy passes
// over every speculating sequence at once) or from the sequence's own n-grams.
//
// NOTE (the draft's KV cache): the draft model keeps its own KvStore addressed by the SAME slots as
// the target's (one block table per sequence serves both models), so block allocation, prefix
// sharing, copy-on-write and rollback (KvCacheManager::truncate) cover both at once. The draft's
// K/V may lag the target's: a sequence's draft catches up on the tokens it has not seen (its prompt
// on the first speculative step, an accepted bonus token later) in its first pass of a step. Draft
// K/V only shapes proposals, never the output: the target verifies every token.
// Threading: engine thread only.
#pragma once

#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "engine/batch_buffers.h"
#include "engine/scheduler.h"
#include "engine/speculation.h"
#include "model/model.h"

namespace frugal {

// The speculation options against the target (and the draft model for kDraft, the Medusa heads'
// base for kMedusa): clear invalid_argument errors.
Status validate_speculation(const Model& model, const SpecOptions& spec, const Model* draft);

class DraftRunner {
 public:
  // draft may be null unless options.mode == kDraft; kv_rows: the target store's row count.
  DraftRunner(const SpecOptions& options, const Model* draft, int64_t kv_rows);

  // Proposes for `chunks` (decode chunks of sequences allowed to speculate): sets each sequence's
  // spec_tokens (possibly empty) with k <= k_limit[i] proposals, extending the sequence's KV
  // allocation by k slots. Copy-on-write work of those allocations is applied to `target_kv` and
  // the draft store at once. token_cost: the measured cost of one drafted token in target steps.
  // Returns the draft model's compute seconds.
  double propose(const std::vector<ScheduledChunk*>& chunks, const std::vector<int32_t>& k_limit,
                 KvCacheManager& kv, KvStore& target_kv, ThreadPool& pool);

  // Copies rows in the draft store too (the engine's copy-on-write work for the target store).
  void copy_rows(int64_t src_row, int64_t dst_row, int64_t count);
  // Seconds of one draft pass relative to one target step (EMA), for DraftLength::choose.
  double token_cost() const;
  // The target's last step time, for token_cost().
  void observe_target_step(double seconds);
  SpecMode mode() const { return options_.mode; }
  // Tokens the last propose() spent catching drafts up (after an off period or on a new
  // sequence) rather than on steady-state proposing.
  int64_t last_catchup_tokens() const { return last_catchup_tokens_; }
  // Seconds the last propose() spent on that catch-up: its first draft pass's excess over a steady
  // first pass (0 when it caught up on nothing).
  double last_catchup_seconds() const { return last_catchup_seconds_; }
  // Tokens seq's draft must catch up on before it can propose: its lag behind the target, beyond
  // the last committed token and a bonus token that a steady-state step re-reads anyway.
  static int64_t catchup_tokens(const Sequence& seq);
  // Positions the draft model can hold (its training context); unlimited for n-grams.
  int64_t max_context() const;
  const SpecOptions& options() const { return options_; }

 private:
  // One batched draft pass: for each seq, tokens [from[i], to[i]) of its context (tokens + drafts so
  // far), logits of the last one. Returns the argmax of each sequence's last row.
  Expected<std::vector<int32_t>> run_pass(const std::vector<Sequence*>& seqs, const std::vector<int32_t>& from,
                                          const std::vector<int32_t>& to, const KvCacheManager& kv, ThreadPool& pool);

  SpecOptions options_;
  const Model* draft_;
  std::unique_ptr<KvStore> draft_kv_;
  ForwardScratch scratch_;
  std::vector<float> logits_;
  BatchBuffers pass_;
  int64_t last_catchup_tokens_ = 0;
  double last_catchup_seconds_ = 0;
  double steady_first_pass_seconds_ = 0;  // EMA of the first pass when nothing is caught up
  double draft_pass_seconds_ = 0;   // EMA
  double target_step_seconds_ = 0;  // EMA
};

}  // namespace frugal
