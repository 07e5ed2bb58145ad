// Candidate truncation filters: top-k, top-p (nucleus) and min-p (sampling layer).
// Each keeps at least one candidate and leaves the list either sorted or in id order.
#pragma once

#include <cstdint>

#include "sampling/token_candidates.h"

namespace frugal {

// Keeps the k best candidates, sorted. k <= 0 or k >= size: no truncation (list left as is).
// Cost O(n + k log k) via nth_element: the 128k-entry vocabulary is never fully sorted for small k.
void apply_top_k(CandidateList& list, int32_t k);

// Keeps the smallest best-first prefix whose softmax mass (of the current logits) is >= p.
// p >= 1: no truncation. Sorts progressively (a growing sorted prefix), so a peaked distribution
// costs O(n) rather than a full O(n log n) sort.
void apply_top_p(CandidateList& list, float p);

// Builds the list straight from raw logits [n_vocab] when 0 < k < n_vocab: the k best, sorted, in one
// pass with a bounded heap (O(n) comparisons against the heap top for the usual k ~ 40), so the
// 128k-entry vocabulary is neither copied into candidates nor partitioned.
void select_top_k(const float* logits, int32_t n_vocab, int32_t k, CandidateList& out);

// Keeps candidates whose probability is >= min_p * the top probability, i.e.
// logit >= max_logit + log(min_p). min_p <= 0: no truncation. Preserves the list's order.
void apply_min_p(CandidateList& list, float min_p);

}  // namespace frugal
