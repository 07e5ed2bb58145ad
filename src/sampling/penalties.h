// Repetition penalties over the recent token history (sampling layer).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "sampling/sampling_params.h"

namespace frugal {

// The slice of `history` the penalties look at: the last `repeat_last_n` tokens, all of them for -1,
// none for 0.
std::span<const int32_t> penalty_window(const std::vector<int32_t>& history, int32_t repeat_last_n);

// True when the params change no logit whatever the history.
bool penalties_disabled(const SamplingParams& params);

// For every distinct token t in `window` with count c (ids outside [0, n_vocab) are ignored):
//   logit[t] = logit[t] > 0 ? logit[t] / repeat_penalty : logit[t] * repeat_penalty   (llama.cpp)
//   logit[t] -= c * frequency_penalty + presence_penalty                                  (OpenAI)
// logits: [n_vocab], modified in place.
void apply_penalties(const SamplingParams& params, std::span<const int32_t> window, float* logits,
                     int32_t n_vocab);

}  // namespace frugal
