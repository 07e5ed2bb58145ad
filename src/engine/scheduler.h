// Scheduler: picks each step's work for continuous batching (engine layer).
//
// NOTE (the central idea, after vLLM v1): every step mixes the running decodes with chunked
// prefills under one token budget. Running sequences go first (decodes cost one token each, so
// long prompts never stall them); waiting sequences are admitted in priority order (FCFS within a
// priority) with whatever budget is left, their prompts cut into chunks. Running out of KV blocks
// is not an error: the lowest-priority, latest running sequence is preempted (its blocks freed,
// to be recomputed when it is re-admitted) until the needy sequence fits.
//
// Threading: not thread-safe; owned by the engine thread.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/sequence.h"
#include "kv/kv_cache_manager.h"

namespace frugal {

struct SchedulerConfig {
  int32_t max_running = 64;         // sequences in one batch
  int32_t step_token_budget = 256;  // tokens per forward pass (EngineOptions::step_token_budget)
  bool prefix_caching = true;
};

struct ScheduledChunk {
  Sequence* seq = nullptr;
  int32_t num_new_tokens = 0;  // tokens[num_computed .. num_computed + num_new) run this step
  bool wants_logits = false;   // the chunk reaches the end of the known tokens: sample after it
};

struct SchedulerOutput {
  std::vector<ScheduledChunk> chunks;  // batch order
  std::vector<CopyOp> copy_ops;        // copy-on-write work before the forward pass
  std::vector<Sequence*> preempted;    // sent back to waiting this step
  int32_t num_tokens = 0;
  int32_t num_decode_tokens = 0;       // chunks of one token after the prompt
  int32_t num_prefill_tokens = 0;
};

class Scheduler {
 public:
  Scheduler(const SchedulerConfig& config, KvCacheManager& kv);

  void add_waiting(Sequence* seq);
  SchedulerOutput schedule();
  // Removes a sequence (finished or cancelled) from the queues and frees its KV blocks.
  void remove(Sequence* seq);

  int32_t num_running() const { return static_cast<int32_t>(running_.size()); }
  int32_t num_waiting() const { return static_cast<int32_t>(waiting_.size()); }
  const std::vector<Sequence*>& running() const { return running_; }
  const std::vector<Sequence*>& waiting() const { return waiting_; }

 private:
  void schedule_running(SchedulerOutput& out, int32_t& budget);
  void schedule_waiting(SchedulerOutput& out, int32_t& budget);
  // Reserves slots for num_new tokens of a running seq, preempting the lowest-ranked running
  // sequences as needed; false when seq itself was the lowest and got preempted.
  bool allocate_or_preempt(Sequence* seq, int32_t num_new, SchedulerOutput& out, int32_t& budget);
  // Admits the first waiting sequence (prefix cache lookup + allocation), preempting strictly
  // lower-ranked running sequences if needed; false when it cannot fit now.
  bool try_admit(Sequence* seq, SchedulerOutput& out, int32_t& budget);
  void add_chunk(Sequence* seq, int32_t num_new, SchedulerOutput& out, int32_t& budget);
  void preempt(Sequence* victim, SchedulerOutput& out, int32_t& budget);
  static void insert_sorted(std::vector<Sequence*>& queue, Sequence* seq);
  static void erase(std::vector<Sequence*>& queue, Sequence* seq);

  SchedulerConfig config_;
  KvCacheManager& kv_;
  std::vector<Sequence*> running_;  // sorted by runs_before
  std::vector<Sequence*> waiting_;  // sorted by runs_before
};

}  // namespace frugal
