#include "engine/draft_runner.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "core/check.h"
#include "core/logging.h"
#include "engine/medusa_heads.h"

namespace frugal {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kTimingEma = 0.2;
// Before anything is measured: a draft pass costs about this share of a target step (the bundled
// pair is ~6x smaller), an n-gram proposal only its extra verified row.
constexpr double kDefaultDraftTokenCost = 0.2;
constexpr double kNgramTokenCost = 0.03;

double ema(double current, double sample) { return current <= 0 ? sample : current + kTimingEma * (sample - current); }

// The context token at `pos`: committed tokens, then this step's proposals.
int32_t context_token(const Sequence& seq, int32_t pos) {
  const int32_t n_tokens = static_cast<int32_t>(seq.tokens.size());
  return pos < n_tokens ? seq.tokens[static_cast<size_t>(pos)] : seq.spec_tokens[static_cast<size_t>(pos - n_tokens)];
}

}  // namespace

Status validate_speculation(const Model& model, const SpecOptions& spec, const Model* draft) {
  if (spec.max_draft_tokens < 1 || spec.max_draft_tokens > 32) return invalid_argument("speculation: k must be in [1, 32]");
  if (spec.ngram_min < 1 || spec.ngram_max < spec.ngram_min) return invalid_argument("speculation: bad n-gram sizes");
  if (spec.max_catchup_tokens < 1) return invalid_argument("speculation: max catch-up tokens must be positive");
  if (spec.mode == SpecMode::kMedusa) {
    if (spec.medusa == nullptr) return invalid_argument("speculation: medusa mode needs Medusa heads (--medusa FILE)");
    if (&spec.medusa->base() != &model) return invalid_argument("speculation: the Medusa heads were loaded for another model");
    if (spec.medusa_tree_nodes < 1 || spec.medusa_tree_nodes > 64) return invalid_argument("speculation: the Medusa tree must have 1..64 nodes");
  }
  if (spec.mode != SpecMode::kDraft) return Status::ok();
  if (draft == nullptr) return invalid_argument("speculation: draft mode needs a draft model (--draft)");
  if (draft->config().n_vocab != model.config().n_vocab) {
    return invalid_argument("speculation: the draft's vocabulary (" + std::to_string(draft->config().n_vocab) +
                            " tokens) differs from the target's (" + std::to_string(model.config().n_vocab) + ")");
  }
  return Status::ok();
}

DraftRunner::DraftRunner(const SpecOptions& options, const Model* draft, int64_t kv_rows)
    : options_(options), draft_(draft) {
  CHECK(options.mode != SpecMode::kDraft || draft != nullptr, "draft speculation needs a draft model");
  if (options.mode == SpecMode::kDraft) draft_kv_ = std::make_unique<KvStore>(draft->config(), kv_rows);
}

void DraftRunner::copy_rows(int64_t src_row, int64_t dst_row, int64_t count) {
  if (draft_kv_) draft_kv_->copy_rows(src_row, dst_row, count);
}

double DraftRunner::token_cost() const {
  if (options_.mode == SpecMode::kNgram) return kNgramTokenCost;
  if (draft_pass_seconds_ <= 0 || target_step_seconds_ <= 0) return kDefaultDraftTokenCost;
  return draft_pass_seconds_ / target_step_seconds_;
}

int64_t DraftRunner::max_context() const {
  return draft_ != nullptr ? draft_->config().n_ctx_train : std::numeric_limits<int64_t>::max();
}

void DraftRunner::observe_target_step(double seconds) { target_step_seconds_ = ema(target_step_seconds_, seconds); }

Expected<std::vector<int32_t>> DraftRunner::run_pass(const std::vector<Sequence*>& seqs, const std::vector<int32_t>& from,
                                                     const std::vector<int32_t>& to, const KvCacheManager& kv,
                                                     ThreadPool& pool) {
  pass_.clear();
  const int32_t block_size = kv.block_size_tokens();
  for (size_t seq_idx = 0; seq_idx < seqs.size(); ++seq_idx) {
    const Sequence& seq = *seqs[seq_idx];
    pass_.add_seq(seq_idx, kv.block_table(seq.id), block_size, to[seq_idx]);
    for (int32_t pos = from[seq_idx]; pos < to[seq_idx]; ++pos) pass_.add_token(seq_idx, context_token(seq, pos), pos);
    pass_.logit_rows.push_back(static_cast<int32_t>(pass_.tokens.size()) - 1);
  }
  Status st = draft_->forward(pass_.view(), *draft_kv_, pool, scratch_, MatmulPath::kFast, logits_);
  if (!st.is_ok()) return st;
  const int64_t n_vocab = draft_->config().n_vocab;
  std::vector<int32_t> best(seqs.size());
  for (size_t seq_idx = 0; seq_idx < seqs.size(); ++seq_idx) {
    const float* row = logits_.data() + static_cast<int64_t>(seq_idx) * n_vocab;
    best[seq_idx] = static_cast<int32_t>(std::max_element(row, row + n_vocab) - row);
  }
  return best;
}

int64_t DraftRunner::catchup_tokens(const Sequence& seq) {
  const int64_t n_tokens = static_cast<int64_t>(seq.tokens.size());
  const int64_t from = std::min<int64_t>(seq.draft_computed_tokens, n_tokens - 1);
  return std::max<int64_t>(0, n_tokens - from - 2);
}

double DraftRunner::propose(const std::vector<ScheduledChunk*>& chunks, const std::vector<int32_t>& k_limit,
                            KvCacheManager& kv, KvStore& target_kv, ThreadPool& pool) {
  const int64_t block_size = kv.block_size_tokens();
  last_catchup_tokens_ = 0;
  std::vector<Sequence*> drafting;
  std::vector<int32_t> ks;
  for (size_t chunk_idx = 0; chunk_idx < chunks.size(); ++chunk_idx) {
    Sequence& seq = *chunks[chunk_idx]->seq;
    seq.spec_tokens.clear();
    int32_t k = std::min(k_limit[chunk_idx], seq.draft_length.choose(options_.max_draft_tokens, token_cost()));
    std::vector<int32_t> ngram;
    if (k > 0 && options_.mode == SpecMode::kNgram) {
      ngram = ngram_propose(seq.tokens, k, options_.ngram_max, options_.ngram_min);
      k = static_cast<int32_t>(ngram.size());
    }
    if (k <= 0) continue;
    auto allocation = kv.allocate_slots(seq.id, k);  // no preemption for a guess: skip when full
    if (!allocation) continue;
    for (const CopyOp& op : allocation->copy_ops) {
      target_kv.copy_rows(static_cast<int64_t>(op.src) * block_size, static_cast<int64_t>(op.dst) * block_size, block_size);
      copy_rows(static_cast<int64_t>(op.src) * block_size, static_cast<int64_t>(op.dst) * block_size, block_size);
    }
    if (options_.mode == SpecMode::kNgram) {
      seq.spec_tokens = std::move(ngram);
      continue;
    }
    drafting.push_back(&seq);
    ks.push_back(k);
  }
  if (drafting.empty()) return 0;

  const auto start = Clock::now();
  // Pass 1: catch up on the context the draft has not seen, ending with the last committed token.
  std::vector<int32_t> from(drafting.size()), to(drafting.size());
  for (size_t seq_idx = 0; seq_idx < drafting.size(); ++seq_idx) {
    Sequence& seq = *drafting[seq_idx];
    const int32_t n_tokens = static_cast<int32_t>(seq.tokens.size());
    from[seq_idx] = std::min(seq.draft_computed_tokens, n_tokens - 1);
    to[seq_idx] = std::min(n_tokens, from[seq_idx] + options_.max_catchup_tokens);
    // At most max_catchup_tokens of the lag this step (2 of them are steady-state re-reads).
    last_catchup_tokens_ += std::min<int64_t>(catchup_tokens(seq), std::max(0, options_.max_catchup_tokens - 2));
    if (to[seq_idx] < n_tokens) ks[seq_idx] = 0;  // still catching up: no proposal this step
  }
  int32_t passes = 0;
  last_catchup_seconds_ = 0;
  for (int32_t pass_idx = 0;; ++pass_idx) {
    const auto pass_start = Clock::now();
    std::vector<Sequence*> active;
    std::vector<int32_t> active_from, active_to;
    for (size_t seq_idx = 0; seq_idx < drafting.size(); ++seq_idx) {
      if (pass_idx > 0 && pass_idx >= ks[seq_idx]) continue;
      active.push_back(drafting[seq_idx]);
      active_from.push_back(from[seq_idx]);
      active_to.push_back(to[seq_idx]);
    }
    if (active.empty()) break;
    auto best = run_pass(active, active_from, active_to, kv, pool);
    ++passes;
    if (pass_idx == 0) {
      // The first pass carries the catch-up: its excess over a steady first pass is what it cost.
      const double first = std::chrono::duration<double>(Clock::now() - pass_start).count();
      if (last_catchup_tokens_ == 0) {
        steady_first_pass_seconds_ = ema(steady_first_pass_seconds_, first);
      } else {
        last_catchup_seconds_ = std::max(0.0, first - steady_first_pass_seconds_);
      }
    }
    if (!best) {
      log_warn("speculation: draft pass failed, verifying without proposals: " + best.error().to_string());
      for (Sequence* seq : drafting) seq->spec_tokens.clear();
      break;
    }
    size_t active_idx = 0;
    for (size_t seq_idx = 0; seq_idx < drafting.size(); ++seq_idx) {
      if (pass_idx > 0 && pass_idx >= ks[seq_idx]) continue;
      Sequence& seq = *drafting[seq_idx];
      seq.draft_computed_tokens = to[seq_idx];
      if (pass_idx < ks[seq_idx]) seq.spec_tokens.push_back((*best)[active_idx]);
      from[seq_idx] = to[seq_idx];
      to[seq_idx] = from[seq_idx] + 1;
      ++active_idx;
    }
  }
  // Slots reserved for proposals that never came (catch-up, a failed pass) go back.
  for (size_t seq_idx = 0; seq_idx < drafting.size(); ++seq_idx) {
    Sequence& seq = *drafting[seq_idx];
    kv.truncate(seq.id, static_cast<int32_t>(seq.tokens.size() + seq.spec_tokens.size()));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (passes > 0) draft_pass_seconds_ = ema(draft_pass_seconds_, seconds / passes);
  return seconds;
}

}  // namespace frugal
