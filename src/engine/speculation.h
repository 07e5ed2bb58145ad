// Speculative decoding policy (engine layer): the options, the draftless n-gram proposer, the
// per-sequence choice of how many tokens to draft, and the load-aware on/off switch. The step
// itself (draft passes, one verifying target pass, rollback) lives in spec_step.h.
//
// NOTE (why these rules):
//  - Proposals are deterministic (a draft model's argmax or an n-gram continuation), so the
//    verifier's rejection rule is Sampler::verify's one-hot form; the output distribution is
//    exactly the target's whatever the proposals are: they only change the speed.
//  - k per sequence: with a per-token acceptance rate a, a verify step yields
//    E(k) = (1 - a^(k+1)) / (1 - a) tokens and costs 1 + c*k target-decode equivalents, where c is
//    the measured cost of one drafted token (a draft pass + the extra verified row). The chosen k
//    maximises E(k) / (1 + c*k).
//  - On/off: at a large batch the verifier's extra rows stop being free (the step becomes
//    compute-bound), so speculation can cost more than it saves. The switch keeps, per batch-size
//    bucket, the measured generated tokens per second of decode steps with and without
//    speculation (medians of the recent steps: robust to a shared machine's stalls) and uses the
//    better one. It re-measures the other every kExploreEvery steps; while re-measuring confirms
//    the choice the interval doubles (up to kExploreEveryMax), so a settled choice costs little,
//    and it drops back when the choice flips. A re-measurement lasts until its arm has recorded a
//    step: the first speculative step after an off spell is the drafts' catch-up, which is not
//    recorded, so a one-step exploration would pay for it and learn nothing.
//  - Turning speculation on costs that catch-up (every sequence's draft re-reads the tokens it
//    missed: at 32 sequences up to ~15 plain steps), so the rules lean towards "off": only a fresh
//    re-measurement of "on" can switch it on, "on" must be kSwitchOnMargin faster and repay the
//    pending catch-up within kPaybackSteps, and re-measuring "on" waits until its cost (catch-up
//    and slower step) is within 3 % of the time in between. Re-measuring "off" while on costs one
//    plain step, so it happens kOffExploreDivisor times as often.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"

namespace frugal {

class MedusaHeads;

enum class SpecMode { kOff, kDraft, kNgram, kMedusa };
std::string_view spec_mode_name(SpecMode mode);  // "off" | "draft" | "ngram" | "medusa"
Expected<SpecMode> parse_spec_mode(std::string_view text);

struct SpecOptions {
  SpecMode mode = SpecMode::kOff;  // kDraft needs a draft model passed to LlmEngine::create
  int32_t max_draft_tokens = 6;    // k never exceeds this
  int32_t ngram_max = 4;           // n-gram proposer: longest suffix matched ...
  int32_t ngram_min = 2;           // ... down to this
  bool load_aware = true;          // false: speculate on every decode step ("always on")
  int32_t max_catchup_tokens = 256;  // draft tokens a sequence may catch up on in one step
  // kMedusa: the heads (MedusaHeads::load on the engine's target) and the candidate tree's size
  // (nodes verified per step and sequence; 5, the chain of the bundled heads' top candidates: the
  // measured best on the bundled target, PERFORMANCE.md).
  std::shared_ptr<const MedusaHeads> medusa;
  int32_t medusa_tree_nodes = 5;
};

// Draftless proposal: the continuation (up to k tokens) of the most recent earlier occurrence of the
// context's last n tokens, trying n = ngram_max down to ngram_min. Empty when nothing matches.
std::vector<int32_t> ngram_propose(std::span<const int32_t> tokens, int32_t k, int32_t ngram_max, int32_t ngram_min);

// Per-sequence draft length from its acceptance history.
class DraftLength {
 public:
  // Records one verification: `accepted` of `proposed` draft tokens were accepted.
  void observe(int32_t proposed, int32_t accepted);
  // The k in [1, k_max] maximising expected tokens per unit cost, where one drafted token costs
  // `token_cost` target-decode-steps (measured by the engine).
  int32_t choose(int32_t k_max, double token_cost) const;
  double acceptance() const { return acceptance_; }

 private:
  double acceptance_ = 0.6;  // prior: a reasonable draft; moves quickly with evidence
};

// Expected tokens from one verification of k proposals with per-token acceptance a.
double expected_tokens_per_verify(double acceptance, int32_t k);

// Shares `budget` proposal tokens of a step among sequences: caps[i] is sequence i's most (its k
// limit from max_draft_tokens, max_tokens and the context) and becomes its share. Water-filling:
// every sequence gets min(cap, level) for the highest level that fits, and the tokens left over
// (fewer than the sequences still capped by the level) go one each to the earliest of those. So
// at a large batch every sequence drafts a few tokens instead of the first ones drafting k_max and
// the rest none (those would fall behind and pay a draft catch-up later).
void share_proposal_budget(int64_t budget, std::vector<int32_t>& caps);

// The load-aware switch. Not thread-safe (engine thread).
class SpecSwitch {
 public:
  static constexpr int32_t kExploreEvery = 24;  // steps between re-measurements of the idle mode ...
  static constexpr int32_t kExploreEveryMax = 384;  // ... doubling up to this while the choice holds
  static constexpr int32_t kOffExploreDivisor = 3;  // "off" is re-measured this much more often (cheap)
  static constexpr int32_t kBuckets = 8;        // batch sizes 1, 2-3, 4-7, ..., 128+
  // Switching on costs the drafts' catch-up once: "on" is chosen over "off" only when its measured
  // advantage repays that within this many steps.
  static constexpr int32_t kPaybackSteps = 64;
  // ... and only when it is measured this much faster than "off" (hysteresis; see decide()).
  static constexpr double kSwitchOnMargin = 0.10;

  explicit SpecSwitch(bool load_aware) : load_aware_(load_aware) {}
  // Whether this decode step (num_decoding sequences) should speculate. pending_catchup_tokens: the
  // tokens the drafts would have to catch up on before proposing (their lag behind the target).
  bool decide(int32_t num_decoding, int64_t pending_catchup_tokens = 0);
  // A decode-only step's outcome: tokens generated in step_seconds, with or without speculation.
  void record(int32_t num_decoding, bool speculated, int64_t tokens_generated, double step_seconds);
  // A speculative step whose drafts first caught up on tokens generated while speculation was off:
  // not a steady-state sample, but what turning speculation back on costs, which sets how often
  // the switch can afford to re-measure "on" (see decide()).
  // catchup_tokens: the tokens the drafts caught up on in it; catchup_seconds: what that catch-up
  // itself took (DraftRunner::last_catchup_seconds). While no catch-up has cost a measurable time
  // per token, the whole catch-up step's duration is the prediction.
  void record_catchup(int32_t num_decoding, double step_seconds, int64_t catchup_tokens, double catchup_seconds);
  // Measured generated tokens per second (0 = not measured yet) for a batch size.
  double throughput(int32_t num_decoding, bool speculated) const;

 private:
  // An arm's figures: medians of its last kWindow steps. A shared machine's stalls make single
  // steps 2-3x slower at random; a moving average let one such step flip the choice (and every
  // flip to "on" pays a catch-up), a median of recent steps does not move for an outlier.
  static constexpr int32_t kWindow = 9;
  struct Arm {
    double tokens_per_s = 0;  // median of the window; 0 until measured
    double step_seconds = 0;  // median of the window
    int32_t samples = 0;      // steps recorded (the window holds the last min(samples, kWindow))
    std::array<double, kWindow> rate_window{};
    std::array<double, kWindow> seconds_window{};
    void add(double rate, double seconds);
  };
  // Steps between re-measurements of the idle arm. Re-measuring "on" (speculating == false): the
  // doubling interval, but at least enough that its extra cost stays within kMaxExploreOverhead of
  // the time spent meanwhile. That cost includes the drafts' catch-up, which grows with the off
  // spell itself (every sequence's draft falls one token further behind per step): predicted from
  // the pending lag when a per-token cost has been measured, so while catching up costs more per
  // step than the budget allows the interval keeps growing, until new sequences (short lags) bring
  // it down. Re-measuring "off" (speculating == true): the same budget, clamped to
  // [doubling / kOffExploreDivisor, doubling].
  int32_t explore_interval(size_t idx, bool speculating, int64_t pending_catchup_tokens) const;
  // Predicted seconds of the drafts' catch-up before a speculative step, for this lag.
  double predicted_catchup_seconds(size_t idx, int64_t pending_catchup_tokens) const;
  static int32_t bucket(int32_t num_decoding);
  // Whether "on" ([1]) measured at least `margin` times "off"'s ([0]) tokens per second.
  static bool on_wins(const std::array<Arm, 2>& arms, double margin);

  bool load_aware_;
  std::array<std::array<Arm, 2>, kBuckets> arms_{};   // [bucket][speculated]
  std::array<int32_t, kBuckets> steps_since_explore_{};
  std::array<int32_t, kBuckets> explore_every_{};  // 0 = kExploreEvery
  std::array<int8_t, kBuckets> last_choice_{};     // 0 none, 1 off, 2 on
  std::array<int8_t, kBuckets> last_recorded_{};   // the arm of the last recorded step: 0 none, 1 off, 2 on
  std::array<double, kBuckets> catchup_seconds_{};  // EMA of a catch-up step's duration
  std::array<double, kBuckets> catchup_seconds_per_token_{};  // EMA; 0 = not measured
  std::array<int8_t, kBuckets> exploring_{};       // arm being re-measured (1 off, 2 on) until it records a step
};

}  // namespace frugal
