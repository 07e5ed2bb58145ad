#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/check.h"
#include "sampling/penalties.h"
#include "sampling/truncation.h"

namespace frugal {
namespace {

uint64_t resolve_seed(uint64_t requested) {
  if (requested != kRandomSeed) return requested;
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ static_cast<uint64_t>(device());
}

float effective_temperature(const SamplingParams& params) {
  return params.temperature > 0.0f ? params.temperature : 1.0f;
}

}  // namespace

Sampler::Sampler(const SamplingParams& params, int32_t n_vocab)
    : params_(params), n_vocab_(n_vocab), seed_(resolve_seed(params.seed)), rng_(seed_) {
  CHECK(n_vocab > 0, "Sampler needs n_vocab > 0");
  CHECK(params.validate().is_ok(), "Sampler built from invalid params: " + params.validate().to_string());
  scratch_logits_.resize(static_cast<size_t>(n_vocab));
  candidates_.items.reserve(static_cast<size_t>(n_vocab));
}

void Sampler::penalized_logits(const float* logits, std::vector<float>& out) const {
  out.resize(static_cast<size_t>(n_vocab_));
  // A NaN logit would break the strict ordering of the filters; it counts as impossible (-inf).
  for (int32_t token = 0; token < n_vocab_; ++token) {
    const float value = logits[token];
    out[static_cast<size_t>(token)] = value != value ? -INFINITY : value;
  }
  for (const auto& [token, bias] : params_.logit_bias) {
    if (token >= n_vocab_) continue;  // outside this model's vocabulary (the server refuses those)
    float& logit = out[static_cast<size_t>(token)];
    logit = bias <= -kMaxLogitBias ? -INFINITY : logit + bias;
  }
  apply_penalties(params_, penalty_window(history_, params_.repeat_last_n), out.data(), n_vocab_);
}

int32_t Sampler::sample(const float* logits) {
  if (params_.temperature <= 0.0f) {
    penalized_logits(logits, scratch_logits_);
    // max_element returns the first maximum: the lowest id on ties.
    return static_cast<int32_t>(std::max_element(scratch_logits_.begin(), scratch_logits_.end()) -
                                scratch_logits_.begin());
  }
  build_candidates(logits);
  return draw(candidates_);
}

void Sampler::build_candidates(const float* logits) {
  penalized_logits(logits, scratch_logits_);
  if (params_.top_k > 0 && params_.top_k < n_vocab_) {
    select_top_k(scratch_logits_.data(), n_vocab_, params_.top_k, candidates_);
  } else {
    candidates_.items.resize(static_cast<size_t>(n_vocab_));
    for (int32_t token = 0; token < n_vocab_; ++token) candidates_.items[token] = {token, scratch_logits_[token]};
    candidates_.sorted = false;
  }
  apply_top_p(candidates_, params_.top_p);
  apply_min_p(candidates_, params_.min_p);
  for (TokenCandidate& c : candidates_.items) c.logit /= params_.temperature;
}

Sampler::Verdict Sampler::verify(const float* logits, int32_t proposed) {
  if (params_.temperature <= 0.0f) {
    const int32_t best = sample(logits);
    return {best, best == proposed};
  }
  build_candidates(logits);
  double max_value = -INFINITY;
  for (const TokenCandidate& c : candidates_.items) max_value = std::max(max_value, static_cast<double>(c.logit));
  if (std::isinf(max_value) && max_value < 0.0) {
    const int32_t only = candidates_.items.front().id;  // nothing to weigh: sample() returns this
    return {only, only == proposed};
  }
  double total = 0.0, proposed_weight = 0.0;
  for (const TokenCandidate& c : candidates_.items) {
    const double weight = std::exp(static_cast<double>(c.logit) - max_value);
    total += weight;
    if (c.id == proposed) proposed_weight = weight;
  }
  if (rng_.uniform() * total < proposed_weight) return {proposed, true};
  // Rejected: the residual max(0, p - q) with a one-hot q is p without the proposed token.
  std::erase_if(candidates_.items, [&](const TokenCandidate& c) { return c.id == proposed; });
  if (candidates_.items.empty()) return {proposed, true};  // unreachable: p(proposed) was 1
  return {draw(candidates_), false};
}

// Inverse-CDF draw over softmax(list logits), walking the list in its (deterministic) order.
int32_t Sampler::draw(const CandidateList& list) {
  DCHECK(!list.items.empty(), "empty candidate list");
  double max_value = -INFINITY;
  for (const TokenCandidate& c : list.items) max_value = std::max(max_value, static_cast<double>(c.logit));
  if (std::isinf(max_value) && max_value < 0.0) return list.items.front().id;  // all -inf: nothing to weigh
  double total = 0.0;
  for (const TokenCandidate& c : list.items) total += std::exp(static_cast<double>(c.logit) - max_value);
  const double target = rng_.uniform() * total;
  double cumulative = 0.0;
  for (const TokenCandidate& c : list.items) {
    cumulative += std::exp(static_cast<double>(c.logit) - max_value);
    if (target < cumulative) return c.id;
  }
  // Rounding put target at the very end: the last candidate with non-zero weight.
  for (auto it = list.items.rbegin(); it != list.items.rend(); ++it) {
    if (std::exp(static_cast<double>(it->logit) - max_value) > 0.0) return it->id;
  }
  return list.items.back().id;
}

void Sampler::accept(int32_t token) {
  history_.push_back(token);
  trim_history();
}

// Keeps the history bounded for a fixed window: drop old tokens in amortised O(1) batches.
void Sampler::trim_history() {
  if (params_.repeat_last_n < 0) return;
  const size_t keep = static_cast<size_t>(params_.repeat_last_n);
  if (history_.size() > 2 * keep + 1024) {
    history_.erase(history_.begin(), history_.end() - static_cast<std::ptrdiff_t>(keep));
  }
}

void Sampler::reset() {
  history_.clear();
  seed_ = resolve_seed(params_.seed);
  rng_.reseed(seed_);
}

std::vector<float> Sampler::log_softmax_scaled(const float* logits) const {
  std::vector<float> values;
  penalized_logits(logits, values);
  const float temperature = effective_temperature(params_);
  double max_value = -INFINITY;
  for (float& v : values) {
    v /= temperature;
    max_value = std::max(max_value, static_cast<double>(v));
  }
  double total = 0.0;
  for (float v : values) total += std::exp(static_cast<double>(v) - max_value);
  const double log_total = max_value + std::log(total);
  for (float& v : values) v = static_cast<float>(static_cast<double>(v) - log_total);
  return values;
}

std::vector<Sampler::TokenLogprob> Sampler::top_logprobs(const float* logits, int n) const {
  if (n <= 0) return {};
  const std::vector<float> values = log_softmax_scaled(logits);
  std::vector<TokenCandidate> ranked(values.size());
  for (int32_t token = 0; token < n_vocab_; ++token) ranked[token] = {token, values[token]};
  const size_t n_keep = std::min(ranked.size(), static_cast<size_t>(n));
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n_keep), ranked.end(),
                    candidate_before);
  std::vector<TokenLogprob> result;
  result.reserve(n_keep);
  for (size_t rank = 0; rank < n_keep; ++rank) result.push_back({ranked[rank].id, ranked[rank].logit});
  return result;
}

float Sampler::token_logprob(const float* logits, int32_t token) const {
  CHECK(token >= 0 && token < n_vocab_, "token_logprob: token out of range");
  return log_softmax_scaled(logits)[static_cast<size_t>(token)];
}

}  // namespace frugal
