#include "sampling/truncation.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace frugal {
namespace {

// First sorted chunk for top-p; grows 4x per round. 256 covers typical nucleus sizes in one round.
constexpr size_t kTopPFirstChunk = 256;

float max_logit(const CandidateList& list) {
  float best = -INFINITY;
  for (const TokenCandidate& c : list.items) best = std::max(best, c.logit);
  return best;
}

// Sorts items[begin, end) into place as the next part of a sorted prefix (items before `begin` are
// already the best, in order).
void extend_sorted_prefix(std::vector<TokenCandidate>& items, size_t begin, size_t end) {
  auto first = items.begin() + static_cast<std::ptrdiff_t>(begin);
  auto last = items.begin() + static_cast<std::ptrdiff_t>(end);
  if (last != items.end()) std::nth_element(first, last - 1, items.end(), candidate_before);
  std::sort(first, last, candidate_before);
}

}  // namespace

void apply_top_k(CandidateList& list, int32_t k) {
  if (k <= 0 || static_cast<size_t>(k) >= list.items.size()) return;
  if (!list.sorted) {
    extend_sorted_prefix(list.items, 0, static_cast<size_t>(k));
    list.sorted = true;
  }
  list.items.resize(static_cast<size_t>(k));
}

void select_top_k(const float* logits, int32_t n_vocab, int32_t k, CandidateList& out) {
  CHECK(k > 0 && k < n_vocab, "select_top_k needs 0 < k < n_vocab");
  std::vector<TokenCandidate>& heap = out.items;
  heap.clear();
  for (int32_t token = 0; token < k; ++token) heap.push_back({token, logits[token]});
  // With candidate_before as "less", the heap top is the worst kept candidate.
  std::make_heap(heap.begin(), heap.end(), candidate_before);
  for (int32_t token = k; token < n_vocab; ++token) {
    const TokenCandidate candidate{token, logits[token]};
    if (!candidate_before(candidate, heap.front())) continue;
    std::pop_heap(heap.begin(), heap.end(), candidate_before);
    heap.back() = candidate;
    std::push_heap(heap.begin(), heap.end(), candidate_before);
  }
  std::sort_heap(heap.begin(), heap.end(), candidate_before);
  out.sorted = true;
}

void apply_top_p(CandidateList& list, float p) {
  const size_t n_items = list.items.size();
  if (p >= 1.0f || n_items <= 1) return;
  // Weights in float (the vocabulary-wide exp is the cost here), accumulated in double.
  const float max_value = max_logit(list);
  double total = 0.0;
  for (const TokenCandidate& c : list.items) total += std::exp(c.logit - max_value);
  const double target_mass = static_cast<double>(p) * total;

  size_t sorted_end = list.sorted ? n_items : 0;
  size_t chunk_end = list.sorted ? n_items : std::min(n_items, kTopPFirstChunk);
  double cumulative = 0.0;
  for (size_t item_idx = 0; item_idx < n_items; ++item_idx) {
    if (item_idx == sorted_end) {
      extend_sorted_prefix(list.items, sorted_end, chunk_end);
      sorted_end = chunk_end;
      chunk_end = std::min(n_items, chunk_end * 4);
    }
    cumulative += std::exp(list.items[item_idx].logit - max_value);
    if (cumulative >= target_mass) {
      list.items.resize(item_idx + 1);
      list.sorted = true;
      return;
    }
  }
  // Rounding left the mass just short of p: everything is kept, and the list is now fully sorted.
  list.sorted = true;
}

void apply_min_p(CandidateList& list, float min_p) {
  if (min_p <= 0.0f || list.items.size() <= 1) return;
  const float threshold = max_logit(list) + std::log(min_p);
  // The top candidate always passes (log(min_p) <= 0), so at least one survives.
  std::erase_if(list.items, [threshold](const TokenCandidate& c) { return c.logit < threshold; });
}

}  // namespace frugal
