#include "sampling/penalties.h"

#include <algorithm>

namespace frugal {

std::span<const int32_t> penalty_window(const std::vector<int32_t>& history, int32_t repeat_last_n) {
  if (repeat_last_n == 0) return {};
  const size_t n_tokens = repeat_last_n < 0 ? history.size()
                                            : std::min(history.size(), static_cast<size_t>(repeat_last_n));
  return std::span<const int32_t>(history).last(n_tokens);
}

bool penalties_disabled(const SamplingParams& params) {
  return params.repeat_last_n == 0 ||
         (params.repeat_penalty == 1.0f && params.presence_penalty == 0.0f && params.frequency_penalty == 0.0f);
}

void apply_penalties(const SamplingParams& params, std::span<const int32_t> window, float* logits,
                     int32_t n_vocab) {
  if (penalties_disabled(params) || window.empty()) return;
  // Sorting a copy of the window groups equal ids: O(w log w) with w = window size, independent of n_vocab.
  std::vector<int32_t> sorted_ids(window.begin(), window.end());
  std::sort(sorted_ids.begin(), sorted_ids.end());
  for (size_t run_begin = 0; run_begin < sorted_ids.size();) {
    size_t run_end = run_begin;
    while (run_end < sorted_ids.size() && sorted_ids[run_end] == sorted_ids[run_begin]) ++run_end;
    const int32_t token = sorted_ids[run_begin];
    const auto count = static_cast<float>(run_end - run_begin);
    run_begin = run_end;
    if (token < 0 || token >= n_vocab) continue;
    float& logit = logits[token];
    logit = logit > 0.0f ? logit / params.repeat_penalty : logit * params.repeat_penalty;
    logit -= count * params.frequency_penalty + params.presence_penalty;
  }
}

}  // namespace frugal
