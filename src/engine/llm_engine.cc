#include "engine/llm_engine.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "core/logging.h"
#include "engine/constrained_sampling.h"
#include "engine/cost_meter.h"
#include "engine/draft_runner.h"
#include "engine/medusa_runner.h"
#include "engine/scheduler.h"
#include "engine/step_batch.h"
#include "kv/kv_cache_manager.h"
#include "metrics/serving_metrics.h"
#include "metrics/spec_metrics.h"

namespace frugal {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// OpenAI's logprobs API returns at most 20 alternatives.
constexpr int32_t kMaxTopLogprobs = 20;
constexpr size_t kMaxStopStrings = 16;
// When nothing is given, the KV cache may take this share of the memory still available.
constexpr double kDefaultKvShareOfFreeMemory = 0.25;

int64_t available_memory_bytes() {
  const long pages = ::sysconf(_SC_AVPHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? static_cast<int64_t>(pages) * page_size : int64_t{1} << 30;
}

class LlmEngineImpl final : public LlmEngine {
 public:
  LlmEngineImpl(const Model& model, const Tokenizer& tokenizer, const EngineOptions& options, int32_t num_blocks,
                int64_t max_context, MetricsRegistry* metrics, const Model* draft);
  ~LlmEngineImpl() override { shutdown(std::chrono::milliseconds(0)); }

  Expected<std::shared_ptr<RequestStream>> submit(EngineRequest request) override;
  EngineSnapshot snapshot() const override;
  void shutdown(std::chrono::milliseconds drain) override;

 private:
  Status validate(const EngineRequest& request) const;
  void loop();
  bool wait_for_work();
  void take_intake();
  void reap_cancelled();
  void fail_all(const Status& status);
  void run_step(SchedulerOutput& out);
  // Speculation for this step: picks the decode chunks that may speculate, has the drafter propose
  // and widens their chunks over the proposals. Returns whether any chunk carries proposals.
  bool propose(SchedulerOutput& out);
  void sample_and_stream(Sequence& seq, const float* logits);
  // Verifies seq.spec_tokens against the target's rows [1 + k, n_vocab]; streams what is accepted.
  void verify_and_stream(Sequence& seq, const float* logits);
  // Medusa: walks seq's candidate tree over its rows [1 + nodes, n_vocab] (root first); returns the
  // row that chose the last emitted token, or -1 when the sequence finished.
  int64_t verify_tree(Sequence& seq, const float* logits);
  // Streams one chosen token; false when the sequence finished (and is destroyed).
  // flush = false: the text waits in seq.pending_text for flush_text (one event per verification
  // instead of one per accepted token: every event wakes the request's reader).
  bool emit_token(Sequence& seq, int32_t token, const float* logits, bool flush = true, bool ends_document = false);
  void record_switch(const SchedulerOutput& out, bool speculated, double step_seconds);
  void record_verification(int64_t proposed, int64_t accepted, int64_t emitted);  // its metrics and cost
  void finish(Sequence& seq, FinishReason reason, std::string text);
  void flush_text(Sequence& seq);
  void update_gauges();

  const Model& model_;
  const Tokenizer& tokenizer_;
  EngineOptions options_;
  int64_t max_context_;
  KvCacheManager kv_manager_;
  KvStore kv_store_;
  Scheduler scheduler_;
  ThreadPool pool_;
  ForwardScratch scratch_;
  StepBatch batch_;
  std::vector<float> logits_;
  std::vector<float> masked_logits_;  // [n_vocab] structured output's masked row
  std::once_flag vocab_once_;
  std::shared_ptr<const TokenVocabulary> grammar_vocab_;  // built at the first structured request
  std::optional<ServingMetrics> metrics_;
  CostMeter cost_meter_;
  std::optional<DraftRunner> drafter_;  // speculation configured
  std::optional<MedusaRunner> medusa_;  // --spec medusa
  std::vector<Sequence*> medusa_seqs_;  // this step's heads updates: sequence, hidden row
  std::vector<int64_t> medusa_rows_;
  SpecSwitch spec_switch_;
  std::optional<SpecMetrics> spec_metrics_;
  int64_t tokens_emitted_in_step_ = 0;

  mutable std::mutex mutex_;           // guards intake_, shutting_down_, drain_deadline_, stop_
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Sequence>> intake_;
  bool shutting_down_ = false;
  bool stop_ = false;
  Clock::time_point drain_deadline_;
  int64_t next_id_ = 0;

  std::map<SeqId, std::unique_ptr<Sequence>> live_;  // engine thread only
  std::atomic<int32_t> num_running_{0}, num_waiting_{0}, kv_used_{0};
  std::atomic<int32_t> num_intake_{0};
  std::thread thread_;
};

LlmEngineImpl::LlmEngineImpl(const Model& model, const Tokenizer& tokenizer, const EngineOptions& options,
                             int32_t num_blocks, int64_t max_context, MetricsRegistry* metrics, const Model* draft)
    : model_(model),
      tokenizer_(tokenizer),
      options_(options),
      max_context_(max_context),
      kv_manager_(KvCacheConfig{.num_blocks = num_blocks,
                                .block_size_tokens = options.block_size_tokens,
                                .enable_prefix_caching = options.prefix_caching}),
      kv_store_(model.config(), static_cast<int64_t>(num_blocks) * options.block_size_tokens),
      scheduler_(SchedulerConfig{.max_running = options.max_running,
                                 .step_token_budget = options.step_token_budget,
                                 .prefix_caching = options.prefix_caching},
                 kv_manager_),
      pool_(options.num_threads > 0 ? options.num_threads : default_num_threads()),
      cost_meter_(CostMeter::Options{.usd_per_hour = options.usd_per_hour,
                                     .window_seconds = options.cost_window_seconds}),
      spec_switch_(options.speculation.load_aware) {
  if (metrics != nullptr) {
    metrics_ = register_serving_metrics(*metrics);
    metrics_->kv_total->with().set(num_blocks);
    cost_meter_.attach_metrics(*metrics_);
  }
  if (options.speculation.mode != SpecMode::kOff) {
    drafter_.emplace(options.speculation, draft, static_cast<int64_t>(num_blocks) * options.block_size_tokens);
    if (options.speculation.mode == SpecMode::kMedusa) medusa_.emplace(options.speculation.medusa, options.speculation.medusa_tree_nodes);
    if (metrics != nullptr) spec_metrics_ = register_spec_metrics(*metrics);
  }
  thread_ = std::thread([this] { loop(); });
}

Status LlmEngineImpl::validate(const EngineRequest& r) const {
  if (r.prompt.empty()) return invalid_argument("prompt is empty");
  // The first token is sampled with the prompt's last step: a request always generates at least one.
  if (r.max_tokens == 0) return invalid_argument("max_tokens must be at least 1 (or negative: until the context is full)");
  const int64_t n_prompt = static_cast<int64_t>(r.prompt.size());
  if (n_prompt + 1 > max_context_) {
    return invalid_argument("prompt of " + std::to_string(n_prompt) + " tokens does not fit the context of " +
                            std::to_string(max_context_) + " tokens (it needs room for at least one more)");
  }
  for (int32_t id : r.prompt) {
    if (id < 0 || id >= model_.config().n_vocab) {
      return invalid_argument("prompt token id " + std::to_string(id) + " is outside the vocabulary");
    }
  }
  if (r.stop.size() > kMaxStopStrings) {
    return invalid_argument("too many stop strings: " + std::to_string(r.stop.size()) + " (max " +
                            std::to_string(kMaxStopStrings) + ")");
  }
  for (const auto& s : r.stop) {
    if (s.empty()) return invalid_argument("stop strings must not be empty");
  }
  if (r.top_logprobs > kMaxTopLogprobs) return invalid_argument("top_logprobs must be at most 20");
  return r.sampling.validate();
}

Expected<std::shared_ptr<RequestStream>> LlmEngineImpl::submit(EngineRequest request) {
  Status valid = validate(request);
  if (!valid.is_ok()) return valid;
  if (request.grammar) std::call_once(vocab_once_, [this] { grammar_vocab_ = build_token_vocabulary(tokenizer_); });
  std::unique_lock<std::mutex> lock(mutex_);
  if (shutting_down_) return unavailable("the server is shutting down");
  if (num_intake_.load() + num_waiting_.load() >= options_.max_waiting) {
    return resource_exhausted("the request queue is full (" + std::to_string(options_.max_waiting) + " waiting)");
  }
  const SeqId id = next_id_++;
  auto stream = std::make_shared<RequestStream>(static_cast<RequestId>(id));
  auto seq = std::make_unique<Sequence>(id, id, std::move(request), stream, tokenizer_,
                                        static_cast<int32_t>(model_.config().n_vocab));
  if (seq->request.grammar) attach_constraint(*seq, grammar_vocab_, max_context_);
  intake_.push_back(std::move(seq));
  num_intake_.fetch_add(1);
  lock.unlock();
  wake_.notify_one();
  return stream;
}

EngineSnapshot LlmEngineImpl::snapshot() const {
  EngineSnapshot s;
  s.running = num_running_.load();
  s.waiting = num_waiting_.load() + num_intake_.load();
  s.kv_blocks_used = kv_used_.load();
  s.kv_blocks_total = kv_manager_.num_total_blocks();
  s.block_size_tokens = options_.block_size_tokens;
  s.max_context = max_context_;
  std::lock_guard<std::mutex> lock(mutex_);
  s.shutting_down = shutting_down_;
  return s;
}

void LlmEngineImpl::shutdown(std::chrono::milliseconds drain) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!shutting_down_) {
      shutting_down_ = true;
      drain_deadline_ = Clock::now() + drain;
    } else {
      drain_deadline_ = std::min(drain_deadline_, Clock::now() + drain);
    }
  }
  wake_.notify_all();
  if (thread_.joinable() && std::this_thread::get_id() != thread_.get_id()) thread_.join();
}

bool LlmEngineImpl::wait_for_work() {
  std::unique_lock<std::mutex> lock(mutex_);
  // Idle: park until a request arrives or shutdown begins. Busy: poll the deadline each step.
  if (live_.empty()) wake_.wait(lock, [&] { return !intake_.empty() || shutting_down_; });
  if (shutting_down_ && (Clock::now() >= drain_deadline_ || (live_.empty() && intake_.empty()))) {
    stop_ = true;
    return false;
  }
  return true;
}

void LlmEngineImpl::take_intake() {
  std::deque<std::unique_ptr<Sequence>> incoming;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    incoming.swap(intake_);
  }
  for (auto& seq : incoming) {
    Sequence* raw = seq.get();
    live_.emplace(raw->id, std::move(seq));
    scheduler_.add_waiting(raw);
    num_waiting_.fetch_add(1);  // before leaving the intake count: snapshot() never reads it low
    num_intake_.fetch_sub(1);
  }
}

void LlmEngineImpl::reap_cancelled() {
  std::vector<Sequence*> cancelled;
  for (auto& [id, seq] : live_) {
    if (seq->stream->cancelled()) cancelled.push_back(seq.get());
  }
  for (Sequence* seq : cancelled) {
    scheduler_.remove(seq);  // frees its blocks before the next step
    live_.erase(seq->id);
  }
}

void LlmEngineImpl::fail_all(const Status& status) {
  take_intake();
  for (auto& [id, seq] : live_) {
    GenerationEvent event;
    event.kind = GenerationEvent::Kind::kError;
    event.error = status;
    seq->stream->push(std::move(event));
    scheduler_.remove(seq.get());
  }
  live_.clear();
  update_gauges();
}

void LlmEngineImpl::loop() {
  while (wait_for_work()) {
    take_intake();
    reap_cancelled();
    if (live_.empty()) {
      update_gauges();
      continue;
    }
    SchedulerOutput out = scheduler_.schedule();
    if (metrics_) metrics_->preemptions->with().inc(static_cast<double>(out.preempted.size()));
    if (out.chunks.empty()) {
      // Nothing fits while nothing runs: the head request can never be served by this cache.
      if (scheduler_.num_running() == 0 && scheduler_.num_waiting() > 0) {
        Sequence* head = scheduler_.waiting().front();
        GenerationEvent event;
        event.kind = GenerationEvent::Kind::kError;
        event.error = resource_exhausted("the request needs more KV cache than the server has");
        head->stream->push(std::move(event));
        scheduler_.remove(head);
        live_.erase(head->id);
      }
      continue;
    }
    run_step(out);
    update_gauges();
  }
  fail_all(unavailable("the server shut down before the request finished"));
}

void LlmEngineImpl::run_step(SchedulerOutput& out) {
  const auto start = Clock::now();
  for (const CopyOp& op : out.copy_ops) {
    const int64_t block_size = options_.block_size_tokens;
    kv_store_.copy_rows(static_cast<int64_t>(op.src) * block_size, static_cast<int64_t>(op.dst) * block_size, block_size);
    if (drafter_) drafter_->copy_rows(static_cast<int64_t>(op.src) * block_size, static_cast<int64_t>(op.dst) * block_size, block_size);
  }
  const bool speculated = drafter_ && propose(out);
  batch_.build(out, kv_manager_);
  const auto forward_start = Clock::now();
  Status st = model_.forward(batch_.view(), kv_store_, pool_, scratch_, MatmulPath::kFast, logits_);
  if (!st.is_ok()) {
    log_error("engine: forward pass failed: " + st.to_string());
    fail_all(internal_error("forward pass failed: " + st.message()));
    return;
  }
  const double step_seconds = seconds_between(start, Clock::now());
  if (drafter_ && out.num_prefill_tokens == 0) drafter_->observe_target_step(seconds_between(forward_start, Clock::now()));
  // Before sampling: sampling may finish a sequence and build its Usage from compute_seconds.
  cost_meter_.charge_step(step_seconds, out);
  if (metrics_) metrics_->step_duration->with({out.num_prefill_tokens > 0 ? "prefill" : "decode"}).observe(step_seconds);
  for (const ScheduledChunk& chunk : out.chunks) {
    Sequence& seq = *chunk.seq;
    if (!seq.first_scheduled_time) {
      seq.first_scheduled_time = start;
      if (metrics_) {
        metrics_->queue_time->with().observe(seconds_between(seq.arrival_time, start));
        metrics_->prompt_tokens->with().inc(seq.num_prompt_tokens);
        metrics_->cached_tokens->with().inc(std::max(0, seq.num_cached_prompt_tokens));
      }
    }
    // Proposals' K/V counts only once verified (verify_and_stream).
    seq.num_computed_tokens += chunk.num_new_tokens - static_cast<int32_t>(seq.spec_tokens.size());
    if (options_.prefix_caching && seq.spec_tokens.empty()) {
      kv_manager_.commit_tokens(seq.id, std::span<const int32_t>(seq.tokens.data(), seq.num_computed_tokens));
    }
  }
  tokens_emitted_in_step_ = 0;
  medusa_seqs_.clear();
  medusa_rows_.clear();
  int64_t logit_row = 0;
  const int64_t n_vocab = model_.config().n_vocab;
  for (const ScheduledChunk& chunk : out.chunks) {
    if (!chunk.wants_logits) continue;
    Sequence& seq = *chunk.seq;
    const int64_t n_rows = 1 + static_cast<int64_t>(seq.spec_tokens.size());
    const float* rows = logits_.data() + logit_row * n_vocab;
    const bool heads = seq.medusa_wanted;
    Sequence* const seq_ptr = &seq;
    const SeqId id = seq.id;
    int64_t chose = 0;  // the row that chose the last token (Medusa heads read its hidden state)
    if (!seq.spec_parents.empty()) {
      chose = verify_tree(seq, rows);  // may destroy seq
    } else if (n_rows > 1) {
      verify_and_stream(seq, rows);  // may destroy seq
    } else {
      sample_and_stream(seq, rows);  // may destroy seq
    }
    if (heads && chose >= 0 && live_.count(id) > 0) {
      medusa_seqs_.push_back(seq_ptr);
      medusa_rows_.push_back(logit_row + chose);
    }
    logit_row += n_rows;
  }
  if (medusa_) medusa_->update(medusa_seqs_, medusa_rows_, scratch_.xn.data(), pool_);
  if (drafter_) record_switch(out, speculated, seconds_between(start, Clock::now()));
}

bool LlmEngineImpl::propose(SchedulerOutput& out) {
  std::vector<ScheduledChunk*> candidates;
  std::vector<int32_t> k_limit, depth_limit;
  for (ScheduledChunk& chunk : out.chunks) {
    Sequence& seq = *chunk.seq;
    seq.spec_tokens.clear();
    seq.spec_parents.clear();
    seq.medusa_wanted = false;
    // Preemption (recompute) or a prefix-cache admission leaves the draft's K/V behind the target's.
    seq.draft_computed_tokens = std::min(seq.draft_computed_tokens, seq.num_computed_tokens);
    const int32_t n_tokens = static_cast<int32_t>(seq.tokens.size());
    const bool decode = chunk.num_new_tokens == 1 && chunk.wants_logits && seq.num_computed_tokens == n_tokens - 1 &&
                        seq.num_generated() > 0;
    if (!decode || !seq.request.allow_speculation || seq.constraint) continue;
    // A verification emits up to k + 1 tokens: stay within max_tokens and the context.
    int64_t k = std::min<int64_t>(drafter_->options().max_draft_tokens, max_context_ - n_tokens - 1);
    if (seq.request.max_tokens >= 0) k = std::min<int64_t>(k, seq.request.max_tokens - seq.num_generated() - 1);
    k = std::min<int64_t>(k, drafter_->max_context() - n_tokens);
    if (medusa_) {  // k caps the tree's depth; the step's budget is shared in tree nodes
      k = std::min<int64_t>(max_context_ - n_tokens - 1, seq.request.max_tokens >= 0 ? seq.request.max_tokens - seq.num_generated() - 1 : max_context_);
      depth_limit.push_back(static_cast<int32_t>(std::max<int64_t>(k, 0)));
      k = k > 0 ? medusa_->tree().nodes_within_depth(static_cast<int32_t>(k)) : 1;  // 1: still refresh the heads
    }
    if (k <= 0) continue;
    candidates.push_back(&chunk);
    k_limit.push_back(static_cast<int32_t>(k));
  }
  // The step's budget left, shared evenly; a sequence whose share is 0 does not speculate this step.
  share_proposal_budget(options_.step_token_budget - out.num_tokens, k_limit);
  size_t kept = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (k_limit[i] <= 0) continue;
    candidates[kept] = candidates[i];
    if (medusa_) depth_limit[kept] = depth_limit[i];
    k_limit[kept++] = k_limit[i];
  }
  candidates.resize(kept);
  k_limit.resize(kept);
  if (medusa_) depth_limit.resize(kept);
  // The drafts' lag: what turning speculation on now would first cost (the switch weighs it).
  int64_t pending_catchup = 0;
  for (const ScheduledChunk* chunk : candidates) pending_catchup += DraftRunner::catchup_tokens(*chunk->seq);
  if (candidates.empty() || !spec_switch_.decide(static_cast<int32_t>(candidates.size()), pending_catchup)) return false;
  if (medusa_) {
    medusa_->propose(candidates, k_limit, depth_limit, kv_manager_, kv_store_);
  } else {
    drafter_->propose(candidates, k_limit, kv_manager_, kv_store_, pool_);
  }
  bool any = false;
  for (ScheduledChunk* chunk : candidates) {
    const int32_t k = static_cast<int32_t>(chunk->seq->spec_tokens.size());
    chunk->num_new_tokens += k;
    out.num_tokens += k;
    any = any || k > 0;
  }
  return any || medusa_.has_value();  // Medusa: a step refreshing the heads is a speculative one
}

int64_t LlmEngineImpl::verify_tree(Sequence& seq, const float* logits) {
  const int64_t n_vocab = model_.config().n_vocab;
  const std::vector<int32_t> nodes = std::move(seq.spec_tokens);
  seq.spec_tokens.clear();
  const int32_t root_pos = static_cast<int32_t>(seq.tokens.size()) - 1;
  std::vector<int32_t> path;  // accepted nodes, root's child first
  int32_t node = -1;
  for (;;) {
    const float* row = logits + (node + 1) * n_vocab;
    // Sampling the target's row and following the child that holds the token is plain sampling:
    // the output is the target's at any temperature; the tree only decides how far one pass gets.
    const int32_t token = seq.sampler.sample(row);
    const int32_t child = medusa_child(medusa_->tree(), nodes, node, token);
    const bool alive = emit_token(seq, token, row, /*flush=*/false);
    if (!alive || child < 0) record_verification(static_cast<int64_t>(nodes.size()), static_cast<int64_t>(path.size()), static_cast<int64_t>(path.size()) + 1);
    if (!alive) return -1;  // finished mid-tree (stop, length, context): seq is gone
    if (child < 0) break;
    path.push_back(child);
    node = child;
  }
  flush_text(seq);
  seq.spec_parents.clear();
  MedusaRunner::compact(seq.id, root_pos, path, kv_manager_, kv_store_);
  seq.num_computed_tokens += static_cast<int32_t>(path.size());
  kv_manager_.truncate(seq.id, seq.num_computed_tokens);  // drop the other nodes' slots
  if (options_.prefix_caching) {
    kv_manager_.commit_tokens(seq.id, std::span<const int32_t>(seq.tokens.data(), seq.num_computed_tokens));
  }
  return node + 1;
}

void LlmEngineImpl::verify_and_stream(Sequence& seq, const float* logits) {
  const int64_t n_vocab = model_.config().n_vocab;
  const std::vector<int32_t> proposals = std::move(seq.spec_tokens);
  seq.spec_tokens.clear();
  const int32_t k = static_cast<int32_t>(proposals.size());
  int32_t accepted = 0;
  for (int32_t row = 0; row <= k; ++row) {
    const float* row_logits = logits + row * n_vocab;
    Sampler::Verdict verdict{};
    if (row < k) {
      verdict = seq.sampler.verify(row_logits, proposals[static_cast<size_t>(row)]);
    } else {
      verdict.token = seq.sampler.sample(row_logits);  // every proposal accepted: the bonus token
    }
    accepted += verdict.accepted ? 1 : 0;
    const bool alive = emit_token(seq, verdict.token, row_logits, /*flush=*/false);
    if (!alive || !verdict.accepted) {  // the verification ends here: account for it once
      record_verification(k, accepted, row + 1);
    }
    if (!alive) return;  // finished (stop, length, context): seq is gone
    if (!verdict.accepted) break;
    ++seq.num_computed_tokens;  // the accepted proposal's K/V was written by this step
  }
  flush_text(seq);
  seq.draft_length.observe(k, accepted);
  seq.draft_computed_tokens = std::min(seq.draft_computed_tokens, seq.num_computed_tokens);
  kv_manager_.truncate(seq.id, seq.num_computed_tokens);  // roll back the rejected proposals' slots
  if (options_.prefix_caching) {
    kv_manager_.commit_tokens(seq.id, std::span<const int32_t>(seq.tokens.data(), seq.num_computed_tokens));
  }
}

void LlmEngineImpl::record_verification(int64_t proposed, int64_t accepted, int64_t emitted) {
  cost_meter_.add_generated_tokens(accepted);  // beyond the one token per sampling chunk
  if (!spec_metrics_) return;
  spec_metrics_->proposed->with().inc(static_cast<double>(proposed));
  spec_metrics_->accepted->with().inc(static_cast<double>(accepted));
  spec_metrics_->verifications->with().inc();
  spec_metrics_->tokens_per_verification->with().observe(static_cast<double>(emitted));
}

void LlmEngineImpl::record_switch(const SchedulerOutput& out, bool speculated, double step_seconds) {
  if (out.num_prefill_tokens > 0) return;  // only pure decode steps compare like with like
  // A step whose drafts caught up on tokens missed while speculation was off is a transition cost,
  // not the steady state the switch compares (it would make every re-measurement look bad).
  if (speculated && drafter_->last_catchup_tokens() > 0) {
    spec_switch_.record_catchup(static_cast<int32_t>(out.chunks.size()), step_seconds, drafter_->last_catchup_tokens(),
                                drafter_->last_catchup_seconds());
    if (spec_metrics_) spec_metrics_->step_seconds->with({"on"}).inc(step_seconds);
    return;
  }
  spec_switch_.record(static_cast<int32_t>(out.chunks.size()), speculated, tokens_emitted_in_step_, step_seconds);
  if (spec_metrics_) spec_metrics_->step_seconds->with({speculated ? "on" : "off"}).inc(step_seconds);
}

void LlmEngineImpl::sample_and_stream(Sequence& seq, const float* logits) {
  if (!seq.constraint) {
    emit_token(seq, seq.sampler.sample(logits), logits);
    return;
  }
  const ConstrainedPick pick = pick_constrained(seq, logits, model_.config().n_vocab, masked_logits_);
  if (pick.none_allowed) {  // every continuation is banned: the document ends as it stands
    const FinishReason reason = pick.complete ? FinishReason::kStop : FinishReason::kLength;
    finish(seq, reason, seq.output.finish(reason).text);
    return;
  }
  emit_token(seq, pick.token, masked_logits_.data(), /*flush=*/true, pick.ends_document);
}

bool LlmEngineImpl::emit_token(Sequence& seq, int32_t token, const float* logits, bool flush, bool ends_document) {
  if (seq.request.top_logprobs >= 0) {
    TokenLogprobs lp;
    lp.token = token;
    lp.logprob = seq.sampler.token_logprob(logits, token);
    if (seq.request.top_logprobs > 0) lp.top = seq.sampler.top_logprobs(logits, seq.request.top_logprobs);
    seq.pending_logprobs.push_back(std::move(lp));
  }
  OutputProcessor::Step step = seq.output.on_token(token, ends_document);
  if (step.accepted) {
    seq.sampler.accept(token);
    seq.tokens.push_back(token);
    seq.pending_token_ids.push_back(token);
    seq.last_token_time = Clock::now();
    if (!seq.first_token_time) seq.first_token_time = seq.last_token_time;
    ++tokens_emitted_in_step_;
    if (metrics_) metrics_->generation_tokens->with().inc();
  } else if (!seq.pending_logprobs.empty()) {
    seq.pending_logprobs.pop_back();  // an end-of-generation token is not part of the output
  }
  if (step.finished) {
    finish(seq, step.reason, std::move(step.text));
    return false;
  }
  if (static_cast<int64_t>(seq.tokens.size()) >= max_context_) {
    finish(seq, FinishReason::kContextFull, std::move(step.text) + seq.output.finish(FinishReason::kContextFull).text);
    return false;
  }
  seq.pending_text += step.text;
  if (flush) flush_text(seq);
  return true;
}

void LlmEngineImpl::flush_text(Sequence& seq) {
  // Tokens wait for their text (partial UTF-8 or a possible stop string).
  if (seq.pending_text.empty()) return;
  GenerationEvent event;
  event.kind = GenerationEvent::Kind::kText;
  event.text = std::move(seq.pending_text);
  seq.pending_text.clear();
  event.token_ids.swap(seq.pending_token_ids);
  event.logprobs.swap(seq.pending_logprobs);
  seq.stream->push(std::move(event));
}

void LlmEngineImpl::finish(Sequence& seq, FinishReason reason, std::string text) {
  text = std::move(seq.pending_text) + text;
  if (!text.empty() || !seq.pending_token_ids.empty()) {
    GenerationEvent event;
    event.kind = GenerationEvent::Kind::kText;
    event.text = std::move(text);
    event.token_ids.swap(seq.pending_token_ids);
    event.logprobs.swap(seq.pending_logprobs);
    seq.stream->push(std::move(event));
  }
  GenerationEvent done;
  done.kind = GenerationEvent::Kind::kFinished;
  done.finish = reason;
  done.usage.prompt_tokens = seq.num_prompt_tokens;
  done.usage.completion_tokens = seq.num_generated();
  done.usage.cached_tokens = std::max(0, seq.num_cached_prompt_tokens);
  done.usage.compute_seconds = seq.compute_seconds;
  done.usage.cost_usd = cost_meter_.usd_for_seconds(seq.compute_seconds);
  seq.stream->push(std::move(done));
  scheduler_.remove(&seq);
  live_.erase(seq.id);
}

void LlmEngineImpl::update_gauges() {
  num_running_.store(scheduler_.num_running());
  num_waiting_.store(scheduler_.num_waiting());
  kv_used_.store(kv_manager_.num_used_blocks());
  cost_meter_.refresh();
  if (metrics_) {
    metrics_->running->with().set(scheduler_.num_running());
    metrics_->waiting->with().set(scheduler_.num_waiting() + num_intake_.load());
    metrics_->kv_used->with().set(kv_manager_.num_used_blocks());
  }
}

}  // namespace

Expected<std::unique_ptr<LlmEngine>> LlmEngine::create(const Model& model, const Tokenizer& tokenizer,
                                                       const EngineOptions& options, MetricsRegistry* metrics,
                                                       const Model* draft) {
  if (options.block_size_tokens <= 0 || options.max_running <= 0 || options.max_waiting <= 0 ||
      options.step_token_budget <= 0) {
    return invalid_argument("engine: block size, max running, max waiting and token budget must be positive");
  }
  if (!(options.usd_per_hour >= 0 && std::isfinite(options.usd_per_hour)) ||
      !(options.cost_window_seconds > 0 && std::isfinite(options.cost_window_seconds))) {
    return invalid_argument("engine: the price per hour must be >= 0 and the cost window > 0 seconds");
  }
  Status spec = validate_speculation(model, options.speculation, draft);
  if (!spec.is_ok()) return spec;
  // The draft's K/V shares the target's slots (draft_runner.h): a token costs both rows.
  const bool drafting = options.speculation.mode == SpecMode::kDraft;
  const int64_t bytes_per_token = KvStore::bytes_per_row(model.config()) + (drafting ? KvStore::bytes_per_row(draft->config()) : 0);
  int64_t max_context = options.max_context > 0 ? options.max_context : model.config().n_ctx_train;
  int64_t kv_bytes = options.kv_mem_bytes;
  if (kv_bytes <= 0) {
    // Whole blocks: a context shorter than one block still needs that block.
    const int64_t block = options.block_size_tokens;
    const int64_t wanted = static_cast<int64_t>(options.max_running) * ((max_context + block - 1) / block) * block *
                           bytes_per_token;
    kv_bytes = std::min<int64_t>(wanted, static_cast<int64_t>(available_memory_bytes() * kDefaultKvShareOfFreeMemory));
  }
  const int32_t num_blocks = KvCacheManager::blocks_for_budget(kv_bytes, bytes_per_token, options.block_size_tokens);
  if (num_blocks < 1) {
    return invalid_argument("engine: --kv-mem of " + std::to_string(kv_bytes) + " bytes holds no KV block (one block of " +
                            std::to_string(options.block_size_tokens) + " tokens needs " +
                            std::to_string(bytes_per_token * options.block_size_tokens) + " bytes)");
  }
  max_context = std::min<int64_t>(max_context, static_cast<int64_t>(num_blocks) * options.block_size_tokens);
  log_info("engine: KV cache " + std::to_string(num_blocks) + " blocks x " + std::to_string(options.block_size_tokens) +
           " tokens (" + std::to_string(static_cast<int64_t>(num_blocks) * options.block_size_tokens * bytes_per_token >> 20) +
           " MiB), max context " + std::to_string(max_context));
  return std::unique_ptr<LlmEngine>(new LlmEngineImpl(model, tokenizer, options, num_blocks, max_context, metrics,
                                                      drafting ? draft : nullptr));
}

}  // namespace frugal
