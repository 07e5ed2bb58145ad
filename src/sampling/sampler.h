// Sampler: picks the next token from raw logits through llama.cpp's common chain
// penalties -> top_k -> top_p -> min_p -> temperature -> seeded draw (sampling layer).
// Threading: one Sampler per sequence; not thread-safe (sample/accept mutate state).
#pragma once

#include <cstdint>
#include <vector>

#include "sampling/rng.h"
#include "sampling/sampling_params.h"
#include "sampling/token_candidates.h"

namespace frugal {

class Sampler {
 public:
  // Precondition: params.validate() is OK (validate user input before building a Sampler) and
  // n_vocab > 0. Both are CHECKed.
  Sampler(const SamplingParams& params, int32_t n_vocab);

  // Picks the next token from raw logits [n_vocab]. Does not modify the caller's logits and does not
  // add the token to the history (call accept()). Greedy (temperature <= 0) returns the argmax of the
  // penalized logits, lowest id on ties, and draws no random number.
  int32_t sample(const float* logits);

  // Speculative decoding with a deterministic proposal (a draft model's or an n-gram's guess):
  // accepts `proposed` with probability p(proposed) under exactly the distribution sample() draws
  // from, otherwise draws from p with `proposed` removed (renormalized). The result is distributed
  // exactly as sample(logits) (the standard rejection rule with a one-hot draft distribution);
  // greedy accepts iff proposed is sample()'s argmax. Like sample(), adds nothing to the history.
  struct Verdict {
    int32_t token = -1;
    bool accepted = false;
  };
  Verdict verify(const float* logits, int32_t proposed);

  // Adds a token to the penalty history (prompt tokens too if they should be penalized).
  void accept(int32_t token);

  // Clears the history and re-seeds: a deterministic seed restarts the same random sequence; the
  // random-seed setting draws a fresh seed.
  void reset();

  struct TokenLogprob {
    int32_t token;
    float logprob;  // natural log of the probability
  };
  // The n most likely tokens (best first, lowest id on ties) under log_softmax of the logits after
  // penalties and temperature (temperature <= 0 counts as 1), over the whole vocabulary: the
  // truncation filters are not applied, as OpenAI's logprobs report the model's distribution.
  // logits: [n_vocab].
  std::vector<TokenLogprob> top_logprobs(const float* logits, int n) const;
  // The same log-probability for one token (the chosen one). token must be in [0, n_vocab).
  float token_logprob(const float* logits, int32_t token) const;

  const SamplingParams& params() const { return params_; }
  uint64_t seed() const { return seed_; }  // the seed actually in use
  const std::vector<int32_t>& history() const { return history_; }

 private:
  void penalized_logits(const float* logits, std::vector<float>& out) const;  // out: [n_vocab]
  std::vector<float> log_softmax_scaled(const float* logits) const;            // [n_vocab]
  int32_t draw(const CandidateList& list);
  // Fills candidates_ with the chain's truncated, temperature-scaled candidates (temperature > 0).
  void build_candidates(const float* logits);
  void trim_history();

  SamplingParams params_;
  int32_t n_vocab_;
  uint64_t seed_;
  SamplerRng rng_;
  std::vector<int32_t> history_;
  // Scratch reused across calls so the hot path does not allocate.
  std::vector<float> scratch_logits_;  // [n_vocab]
  CandidateList candidates_;
};

}  // namespace frugal
