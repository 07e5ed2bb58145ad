#include "engine/scheduler.h"

#include <algorithm>

#include "core/check.h"

namespace frugal {

Scheduler::Scheduler(const SchedulerConfig& config, KvCacheManager& kv) : config_(config), kv_(kv) {
  CHECK(config.max_running > 0 && config.step_token_budget > 0, "scheduler: limits must be positive");
}

void Scheduler::insert_sorted(std::vector<Sequence*>& queue, Sequence* seq) {
  auto it = std::upper_bound(queue.begin(), queue.end(), seq,
                             [](const Sequence* a, const Sequence* b) { return runs_before(*a, *b); });
  queue.insert(it, seq);
}

void Scheduler::erase(std::vector<Sequence*>& queue, Sequence* seq) {
  queue.erase(std::remove(queue.begin(), queue.end(), seq), queue.end());
}

void Scheduler::add_waiting(Sequence* seq) {
  seq->status = SeqStatus::kWaiting;
  insert_sorted(waiting_, seq);
}

void Scheduler::remove(Sequence* seq) {
  erase(running_, seq);
  erase(waiting_, seq);
  kv_.free(seq->id);
  seq->status = SeqStatus::kFinished;
}

void Scheduler::preempt(Sequence* victim, SchedulerOutput& out, int32_t& budget) {
  // A victim already scheduled this step gives its chunk (and budget) back.
  for (auto it = out.chunks.begin(); it != out.chunks.end(); ++it) {
    if (it->seq == victim) {
      budget += it->num_new_tokens;
      out.num_tokens -= it->num_new_tokens;
      out.chunks.erase(it);
      break;
    }
  }
  erase(running_, victim);
  kv_.free(victim->id);
  victim->status = SeqStatus::kWaiting;
  victim->num_computed_tokens = 0;  // recompute: prompt + generated tokens become the new prefill
  ++victim->num_preemptions;
  out.preempted.push_back(victim);
  add_waiting(victim);
}

bool Scheduler::allocate_or_preempt(Sequence* seq, int32_t num_new, SchedulerOutput& out, int32_t& budget) {
  for (;;) {
    if (auto allocation = kv_.allocate_slots(seq->id, num_new)) {
      out.copy_ops.insert(out.copy_ops.end(), allocation->copy_ops.begin(), allocation->copy_ops.end());
      return true;
    }
    // The lowest-ranked running sequence is the victim; when that is seq itself, seq yields.
    Sequence* victim = running_.back();
    preempt(victim, out, budget);
    if (victim == seq) return false;
  }
}

void Scheduler::schedule_running(SchedulerOutput& out, int32_t& budget) {
  const std::vector<Sequence*> snapshot = running_;  // preemption edits running_
  for (Sequence* seq : snapshot) {
    if (budget <= 0) break;
    if (seq->status != SeqStatus::kRunning) continue;  // preempted earlier in this step
    const int32_t remaining = static_cast<int32_t>(seq->tokens.size()) - seq->num_computed_tokens;
    const int32_t num_new = std::min(remaining, budget);
    if (num_new <= 0) continue;
    if (!allocate_or_preempt(seq, num_new, out, budget)) continue;
    add_chunk(seq, num_new, out, budget);
  }
}

void Scheduler::add_chunk(Sequence* seq, int32_t num_new, SchedulerOutput& out, int32_t& budget) {
  const bool reaches_end = seq->num_computed_tokens + num_new == static_cast<int32_t>(seq->tokens.size());
  out.chunks.push_back({seq, num_new, reaches_end});
  out.num_tokens += num_new;
  budget -= num_new;
}

bool Scheduler::try_admit(Sequence* seq, SchedulerOutput& out, int32_t& budget) {
  // The prefix lookup and the allocation happen back to back: a prefix is valid only until the
  // pool changes (a preemption below frees blocks, so the lookup is repeated).
  for (;;) {
    const CachedPrefix prefix = config_.prefix_caching ? kv_.find_cached_prefix(seq->tokens) : CachedPrefix{};
    const int32_t num_new = std::min(static_cast<int32_t>(seq->tokens.size()) - prefix.num_cached_tokens, budget);
    if (auto allocation = kv_.allocate_slots(seq->id, num_new, &prefix)) {
      out.copy_ops.insert(out.copy_ops.end(), allocation->copy_ops.begin(), allocation->copy_ops.end());
      seq->num_computed_tokens = prefix.num_cached_tokens;
      if (seq->num_cached_prompt_tokens < 0) seq->num_cached_prompt_tokens = prefix.num_cached_tokens;
      erase(waiting_, seq);
      seq->status = SeqStatus::kRunning;
      insert_sorted(running_, seq);
      add_chunk(seq, num_new, out, budget);
      return true;
    }
    // Only a strictly lower-ranked running sequence is preempted to admit a waiting one.
    if (running_.empty() || !runs_before(*seq, *running_.back())) return false;
    preempt(running_.back(), out, budget);
  }
}

void Scheduler::schedule_waiting(SchedulerOutput& out, int32_t& budget) {
  while (budget > 0 && !waiting_.empty() && num_running() < config_.max_running) {
    if (!try_admit(waiting_.front(), out, budget)) break;  // wait for blocks to be freed
  }
}

SchedulerOutput Scheduler::schedule() {
  SchedulerOutput out;
  int32_t budget = config_.step_token_budget;
  schedule_running(out, budget);
  schedule_waiting(out, budget);
  for (const ScheduledChunk& chunk : out.chunks) {
    const bool decode = chunk.num_new_tokens == 1 && chunk.seq->num_computed_tokens >= chunk.seq->num_prompt_tokens;
    (decode ? out.num_decode_tokens : out.num_prefill_tokens) += chunk.num_new_tokens;
  }
  return out;
}

}  // namespace frugal
