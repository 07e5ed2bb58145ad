// TokenCandidate: an (id, logit) pair and the total order the sampler chain sorts by (sampling layer).
#pragma once

#include <cstdint>
#include <vector>

namespace frugal {

struct TokenCandidate {
  int32_t id;
  float logit;
};

// Higher logit first; equal logits by lower id. Ids are unique, so this is a strict total order and
// every sort/partition of a candidate list has one well-defined result on every standard library.
inline bool candidate_before(const TokenCandidate& a, const TokenCandidate& b) {
  if (a.logit != b.logit) return a.logit > b.logit;
  return a.id < b.id;
}

// The working set of the chain. Invariant: either `sorted` (descending by candidate_before) or in
// ascending id order, so iteration order never depends on an unspecified partition order.
struct CandidateList {
  std::vector<TokenCandidate> items;
  bool sorted = false;
};

}  // namespace frugal
