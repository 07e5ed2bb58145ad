// SamplingParams: the user-facing knobs of the sampler chain and their validation (sampling layer).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/status.h"

namespace frugal {

// OpenAI's logit_bias range; a bias at the bottom of it bans the token outright.
inline constexpr float kMaxLogitBias = 100.0f;

// The seed value that asks for a fresh random seed from std::random_device.
inline constexpr uint64_t kRandomSeed = 0xFFFFFFFFFFFFFFFFull;

struct SamplingParams {
  float temperature = 0.8f;        // <= 0 -> greedy (argmax, lowest id on ties)
  int32_t top_k = 40;              // <= 0 -> disabled
  float top_p = 0.95f;             // >= 1 -> disabled
  float min_p = 0.05f;             // <= 0 -> disabled
  float repeat_penalty = 1.0f;     // 1 -> disabled; llama.cpp semantics: logit > 0 ? logit / p : logit * p
  int32_t repeat_last_n = 64;      // window (tokens) for all penalties; -1 = whole history, 0 = disabled
  float presence_penalty = 0.0f;   // OpenAI semantics: logit -= presence if count > 0
  float frequency_penalty = 0.0f;  // OpenAI semantics: logit -= frequency * count
  uint64_t seed = kRandomSeed;     // kRandomSeed: random seed from std::random_device; else deterministic
  // OpenAI logit_bias: (token id, bias) added to the raw logits before everything else; a bias of
  // -100 makes the token impossible (-inf), as OpenAI documents "-100 should result in a ban".
  std::vector<std::pair<int32_t, float>> logit_bias;

  // kInvalidArgument naming the offending field: NaN/inf anywhere, temperature < 0,
  // top_p outside (0, 1], min_p outside [0, 1], repeat_penalty <= 0, repeat_last_n < -1,
  // presence/frequency penalty outside [-2, 2] (OpenAI's documented range), a logit_bias token id
  // < 0 or bias outside [-100, 100]. Token ids beyond the vocabulary are the caller's check.
  Status validate() const;
};

}  // namespace frugal
