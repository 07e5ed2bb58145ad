#include "engine/speculation.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace frugal {
namespace {

constexpr double kAcceptanceEma = 0.25;   // weight of the newest verification
constexpr double kCatchupEma = 0.2;       // weight of the newest catch-up (its step and per-token cost)
constexpr int32_t kWarmupSamples = 3;     // steps measured per arm before trusting it
constexpr double kMaxExploreOverhead = 0.03;  // re-measuring the idle arm: at most this share of the time

}  // namespace

std::string_view spec_mode_name(SpecMode mode) {
  switch (mode) {
    case SpecMode::kOff: return "off";
    case SpecMode::kDraft: return "draft";
    case SpecMode::kNgram: return "ngram";
    case SpecMode::kMedusa: return "medusa";
  }
  return "off";
}

Expected<SpecMode> parse_spec_mode(std::string_view text) {
  if (text == "off" || text == "none") return SpecMode::kOff;
  if (text == "draft") return SpecMode::kDraft;
  if (text == "ngram") return SpecMode::kNgram;
  if (text == "medusa") return SpecMode::kMedusa;
  return invalid_argument("unknown speculation mode '" + std::string(text) + "' (expected off, draft, ngram or medusa)");
}

std::vector<int32_t> ngram_propose(std::span<const int32_t> tokens, int32_t k, int32_t ngram_max, int32_t ngram_min) {
  const int64_t n_tokens = static_cast<int64_t>(tokens.size());
  for (int32_t n = ngram_max; n >= std::max(1, ngram_min); --n) {
    if (n_tokens <= n) continue;
    const std::span<const int32_t> suffix = tokens.subspan(static_cast<size_t>(n_tokens - n));
    // Most recent earlier occurrence first: recent text predicts the next tokens best.
    for (int64_t start = n_tokens - n - 1; start >= 0; --start) {
      if (!std::equal(suffix.begin(), suffix.end(), tokens.begin() + start)) continue;
      const int64_t from = start + n;
      const int64_t count = std::min<int64_t>(k, n_tokens - from);
      return {tokens.begin() + from, tokens.begin() + from + count};
    }
  }
  return {};
}

double expected_tokens_per_verify(double acceptance, int32_t k) {
  const double a = std::clamp(acceptance, 0.0, 0.999);
  return (1.0 - std::pow(a, k + 1)) / (1.0 - a);
}

void DraftLength::observe(int32_t proposed, int32_t accepted) {
  if (proposed <= 0) return;
  // Acceptance stops at the first rejection: `accepted` successes and (accepted < proposed) one
  // failure is the maximum-likelihood estimate of a per-token rate.
  const double trials = accepted + (accepted < proposed ? 1 : 0);
  const double observed = trials > 0 ? accepted / trials : acceptance_;
  acceptance_ += kAcceptanceEma * (observed - acceptance_);
}

int32_t DraftLength::choose(int32_t k_max, double token_cost) const {
  int32_t best_k = 1;
  double best_rate = 0;
  for (int32_t k = 1; k <= k_max; ++k) {
    const double rate = expected_tokens_per_verify(acceptance_, k) / (1.0 + std::max(0.0, token_cost) * k);
    if (rate > best_rate * (1.0 + 1e-9)) {
      best_rate = rate;
      best_k = k;
    }
  }
  return best_k;
}

void share_proposal_budget(int64_t budget, std::vector<int32_t>& caps) {
  int64_t total = 0;
  for (int32_t& cap : caps) {
    cap = std::max(0, cap);
    total += cap;
  }
  if (total <= budget) return;  // every cap fits
  // The highest level with sum(min(cap, level)) <= budget (caps are small: scan the levels).
  int32_t level = 0;
  int64_t used = 0;
  for (;;) {
    int64_t at_next = 0;
    for (int32_t cap : caps) at_next += std::min(cap, level + 1);
    if (at_next > budget) break;
    ++level;
    used = at_next;
  }
  // The tokens left over go one each to the earliest sequences the level cut (cap > level); there
  // are fewer of them than such sequences, or the level would have been one higher.
  int64_t left = std::max<int64_t>(0, budget) - used;
  for (int32_t& cap : caps) {
    const int32_t share = std::min(cap, level);
    const bool extra = cap > level && left > 0;
    if (extra) --left;
    cap = share + (extra ? 1 : 0);
  }
}

bool SpecSwitch::on_wins(const std::array<Arm, 2>& arms, double margin) {
  return arms[1].tokens_per_s >= margin * arms[0].tokens_per_s;
}

int32_t SpecSwitch::bucket(int32_t num_decoding) {
  const int32_t width = static_cast<int32_t>(std::bit_width(static_cast<uint32_t>(std::max(1, num_decoding)))) - 1;
  return std::min(width, kBuckets - 1);
}

bool SpecSwitch::decide(int32_t num_decoding, int64_t pending_catchup_tokens) {
  if (!load_aware_) return true;
  const int32_t b = bucket(num_decoding);
  // A re-measurement is about the load it started under: one left unfinished when the batch size
  // moved to another bucket is dropped, not resumed later under another load (and another lag).
  for (int32_t other = 0; other < kBuckets; ++other) {
    if (other != b) exploring_[static_cast<size_t>(other)] = 0;
  }
  const Arm& on = arms_[static_cast<size_t>(b)][1];
  const Arm& off = arms_[static_cast<size_t>(b)][0];
  if (on.samples < kWarmupSamples || off.samples < kWarmupSamples) {
    // A batch size not measured yet. While the drafts lag, its own warm-up would switch speculation
    // off and on again, a catch-up each time (a batch shrinking as its requests finish crosses into
    // a new bucket with every drafted token missed so far): follow an adjacent measured batch size.
    if (pending_catchup_tokens > 0) {
      for (const int32_t nb : {b - 1, b + 1}) {
        if (nb < 0 || nb >= kBuckets) continue;
        const auto& arms = arms_[static_cast<size_t>(nb)];
        if (arms[0].samples < kWarmupSamples || arms[1].samples < kWarmupSamples) continue;
        return on_wins(arms, 1.0 + kSwitchOnMargin);
      }
    }
    // Measure "off" first, then "on": the first plain steps after speculative ones run slower (and
    // contexts grow), which biased the first comparison towards "on".
    return off.samples >= kWarmupSamples;
  }
  const size_t idx = static_cast<size_t>(b);
  // A re-measurement lasts until its arm has recorded a step: the first speculative step after an
  // off spell is the drafts' catch-up, which is not recorded (it would make "on" look worse than it
  // is), so a one-step exploration would pay for the catch-up and learn nothing.
  if (exploring_[idx] != 0) return exploring_[idx] == 2;
  // Hysteresis towards "off": from "off" (or no choice yet), "on" must be measured kSwitchOnMargin
  // faster. Its costs that no steady step shows (catch-ups, figures that age while it is idle and
  // the contexts grow) made near-equal arms flip back and forth at large batches, a catch-up each
  // time. It must also repay the catch-up it would start with: the seconds it saves over
  // kPaybackSteps plain steps' worth of tokens, against the predicted catch-up for this lag.
  const double margin = last_choice_[idx] == 2 ? 1.0 : 1.0 + kSwitchOnMargin;
  bool better = on_wins(arms_[idx], margin);
  // From "off", only a fresh measurement of "on" (a re-measurement, which the budget below paces)
  // can switch it on: "on"'s figure ages while it is idle, and when the machine slows down, "off"'s
  // figure drops while the idle one keeps its better day.
  if (better && last_choice_[idx] == 1 && last_recorded_[idx] != 2) better = false;
  if (better && pending_catchup_tokens > 0) {
    const double saved = kPaybackSteps * off.step_seconds * (1.0 - off.tokens_per_s / on.tokens_per_s);
    better = saved > predicted_catchup_seconds(idx, pending_catchup_tokens);
  }
  const int8_t choice = better ? 2 : 1;
  int32_t& every = explore_every_[idx];
  if (every == 0 || choice != last_choice_[idx]) every = kExploreEvery;  // new or flipped: look again soon
  last_choice_[idx] = choice;
  int32_t& since = steps_since_explore_[idx];
  if (++since >= explore_interval(idx, better, pending_catchup_tokens)) {  // keep the idle arm's figure fresh: load and acceptance drift
    since = 0;
    every = std::min(2 * every, kExploreEveryMax);  // reset above if the re-measurement flips the choice
    exploring_[idx] = better ? 1 : 2;
    return !better;
  }
  return better;
}

void SpecSwitch::record(int32_t num_decoding, bool speculated, int64_t tokens_generated, double step_seconds) {
  if (step_seconds <= 0 || tokens_generated <= 0) return;
  const size_t idx = static_cast<size_t>(bucket(num_decoding));
  if (exploring_[idx] == (speculated ? 2 : 1)) exploring_[idx] = 0;  // the re-measured arm has its step
  arms_[idx][speculated ? 1 : 0].add(static_cast<double>(tokens_generated) / step_seconds, step_seconds);
  last_recorded_[idx] = speculated ? 2 : 1;
}

void SpecSwitch::Arm::add(double rate, double seconds) {
  const size_t slot = static_cast<size_t>(samples % kWindow);
  rate_window[slot] = rate;
  seconds_window[slot] = seconds;
  ++samples;
  const auto median = [n = std::min(samples, kWindow)](std::array<double, kWindow> window) {
    const auto mid = window.begin() + n / 2;
    std::nth_element(window.begin(), mid, window.begin() + n);
    return *mid;
  };
  tokens_per_s = median(rate_window);
  step_seconds = median(seconds_window);
}

void SpecSwitch::record_catchup(int32_t num_decoding, double step_seconds, int64_t catchup_tokens,
                                double catchup_seconds) {
  if (step_seconds <= 0) return;
  const size_t idx = static_cast<size_t>(bucket(num_decoding));
  double& c = catchup_seconds_[idx];
  c = c == 0 ? step_seconds : c + kCatchupEma * (step_seconds - c);
  // Per caught-up token: the catch-up's own measured seconds (the step's excess over a steady
  // speculative step would undercount: sequences still catching up do not propose, so such a step
  // verifies fewer tokens).
  const double per_token = catchup_tokens > 0 ? std::max(0.0, catchup_seconds) / static_cast<double>(catchup_tokens) : 0;
  if (per_token > 0) {
    double& p = catchup_seconds_per_token_[idx];
    p = p == 0 ? per_token : p + kCatchupEma * (per_token - p);
  }
}

int32_t SpecSwitch::explore_interval(size_t idx, bool speculating, int64_t pending_catchup_tokens) const {
  const int32_t every = explore_every_[idx] == 0 ? kExploreEvery : explore_every_[idx];
  const Arm& chosen = arms_[idx][speculating ? 1 : 0];
  const Arm& idle = arms_[idx][speculating ? 0 : 1];
  if (chosen.step_seconds <= 0 || chosen.tokens_per_s <= 0 || idle.tokens_per_s <= 0) return every;
  // One re-measurement's extra seconds: the idle arm's step at its own (worse) rate instead of the
  // chosen one's, plus, when re-measuring "on", the drafts' catch-up step. The interval keeps that
  // within kMaxExploreOverhead of the time in between.
  const double tokens_per_step = chosen.tokens_per_s * chosen.step_seconds;
  double extra = std::max(0.0, tokens_per_step / idle.tokens_per_s - chosen.step_seconds);
  if (!speculating) extra += predicted_catchup_seconds(idx, pending_catchup_tokens);
  const double budget_steps = std::min(extra / (kMaxExploreOverhead * chosen.step_seconds), 1e6);
  if (!speculating) return std::max(every, static_cast<int32_t>(budget_steps));
  // Re-measuring "off" while on costs one plain step and no catch-up (the drafts fall one token
  // behind), and it is "off"'s idle figure that may be stale: a slow moment of the machine when it
  // was measured makes the budget above too long. So between kExploreEvery / kOffExploreDivisor
  // and the doubling interval itself.
  return std::clamp(static_cast<int32_t>(budget_steps), std::max(1, every / kOffExploreDivisor), every);
}

double SpecSwitch::predicted_catchup_seconds(size_t idx, int64_t pending_catchup_tokens) const {
  const double per_token = catchup_seconds_per_token_[idx];
  return per_token > 0 ? per_token * static_cast<double>(pending_catchup_tokens) : catchup_seconds_[idx];
}

double SpecSwitch::throughput(int32_t num_decoding, bool speculated) const {
  return arms_[static_cast<size_t>(bucket(num_decoding))][speculated ? 1 : 0].tokens_per_s;
}

}  // namespace frugal
