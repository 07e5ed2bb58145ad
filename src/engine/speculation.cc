#include "engine/speculation.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace frugal {
namespace {

constexpr double kAcceptanceEma = 0.25;   // weight of the newest verification
constexpr double kThroughputEma = 0.2;    // weight of the newest step
constexpr int32_t kWarmupSamples = 3;     // steps measured per arm before trusting it
constexpr double kMaxExploreOverhead = 0.03;  // re-measuring the idle arm: at most this share of the time

}  // namespace

std::string_view spec_mode_name(SpecMode mode) {
  switch (mode) {
    case SpecMode::kOff: return "off";
    case SpecMode::kDraft: return "draft";
    case SpecMode::kNgram: return "ngram";
  }
  return "off";
}

Expected<SpecMode> parse_spec_mode(std::string_view text) {
  if (text == "off" || text == "none") return SpecMode::kOff;
  if (text == "draft") return SpecMode::kDraft;
  if (text == "ngram") return SpecMode::kNgram;
  return invalid_argument("unknown speculation mode '" + std::string(text) + "' (expected off, draft or ngram)");
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

int32_t SpecSwitch::bucket(int32_t num_decoding) {
  const int32_t width = static_cast<int32_t>(std::bit_width(static_cast<uint32_t>(std::max(1, num_decoding)))) - 1;
  return std::min(width, kBuckets - 1);
}

bool SpecSwitch::decide(int32_t num_decoding, int64_t pending_catchup_tokens) {
  if (!load_aware_) return true;
  const int32_t b = bucket(num_decoding);
  const Arm& on = arms_[static_cast<size_t>(b)][1];
  const Arm& off = arms_[static_cast<size_t>(b)][0];
  if (on.samples < kWarmupSamples) return true;
  if (off.samples < kWarmupSamples) return false;
  const size_t idx = static_cast<size_t>(b);
  // A re-measurement lasts until its arm has recorded a step: the first speculative step after an
  // off spell is the drafts' catch-up, which is not recorded (it would make "on" look worse than it
  // is), so a one-step exploration would pay for the catch-up and learn nothing.
  if (exploring_[idx] != 0) return exploring_[idx] == 2;
  const bool better = on.tokens_per_s >= off.tokens_per_s;
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
  Arm& arm = arms_[idx][speculated ? 1 : 0];
  const double rate = static_cast<double>(tokens_generated) / step_seconds;
  arm.tokens_per_s = arm.samples == 0 ? rate : arm.tokens_per_s + kThroughputEma * (rate - arm.tokens_per_s);
  arm.step_seconds = arm.samples == 0 ? step_seconds : arm.step_seconds + kThroughputEma * (step_seconds - arm.step_seconds);
  ++arm.samples;
}

void SpecSwitch::record_catchup(int32_t num_decoding, double step_seconds, int64_t catchup_tokens) {
  if (step_seconds <= 0) return;
  const size_t idx = static_cast<size_t>(bucket(num_decoding));
  double& c = catchup_seconds_[idx];
  c = c == 0 ? step_seconds : c + kThroughputEma * (step_seconds - c);
  // Per caught-up token: the step's excess over a steady speculative step.
  const double steady = arms_[idx][1].step_seconds;
  if (catchup_tokens > 0 && steady > 0 && step_seconds > steady) {
    const double per_token = (step_seconds - steady) / static_cast<double>(catchup_tokens);
    double& p = catchup_seconds_per_token_[idx];
    p = p == 0 ? per_token : p + kThroughputEma * (per_token - p);
  }
}

int32_t SpecSwitch::explore_interval(size_t idx, bool speculating, int64_t pending_catchup_tokens) const {
  const int32_t every = explore_every_[idx] == 0 ? kExploreEvery : explore_every_[idx];
  const Arm& chosen = arms_[idx][speculating ? 1 : 0];
  const Arm& idle = arms_[idx][speculating ? 0 : 1];
  if (chosen.step_seconds <= 0 || chosen.tokens_per_s <= 0 || idle.tokens_per_s <= 0) return every;
  // One re-measurement's extra seconds: the idle arm's step at its own (worse) rate instead of the
  // chosen one's, plus, when re-measuring "on", the drafts' catch-up step.
  const double tokens_per_step = chosen.tokens_per_s * chosen.step_seconds;
  double extra = std::max(0.0, tokens_per_step / idle.tokens_per_s - chosen.step_seconds);
  if (!speculating) {
    const double per_token = catchup_seconds_per_token_[idx];
    extra += per_token > 0 ? per_token * static_cast<double>(pending_catchup_tokens) : catchup_seconds_[idx];
  }
  const double steps = extra / (kMaxExploreOverhead * chosen.step_seconds);
  return std::max(every, static_cast<int32_t>(std::min(steps, 1e6)));
}

double SpecSwitch::throughput(int32_t num_decoding, bool speculated) const {
  return arms_[static_cast<size_t>(bucket(num_decoding))][speculated ? 1 : 0].tokens_per_s;
}

}  // namespace frugal
