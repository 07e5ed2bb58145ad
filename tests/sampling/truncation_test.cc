// Tests top-k, top-p and min-p against independent full-sort computations.
#include "sampling/truncation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

namespace frugal {
namespace {

CandidateList random_list(size_t n_vocab, uint64_t seed, float scale) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  CandidateList list;
  for (size_t token = 0; token < n_vocab; ++token) list.items.push_back({static_cast<int32_t>(token), normal(engine)});
  return list;
}

// Independent reference: ids sorted by (logit desc, id asc) with a plain full sort.
std::vector<TokenCandidate> fully_sorted(CandidateList list) {
  std::sort(list.items.begin(), list.items.end(), [](const TokenCandidate& a, const TokenCandidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  });
  return list.items;
}

std::vector<int32_t> ids_of(const std::vector<TokenCandidate>& items) {
  std::vector<int32_t> ids;
  for (const TokenCandidate& c : items) ids.push_back(c.id);
  return ids;
}

TEST(TopK, KeepsExactlyTheKBestInOrder) {
  const CandidateList original = random_list(131072, 1, 3.0f);
  const std::vector<TokenCandidate> reference = fully_sorted(original);
  for (int32_t k : {1, 40, 1000}) {
    CandidateList list = original;
    apply_top_k(list, k);
    ASSERT_EQ(list.items.size(), static_cast<size_t>(k));
    EXPECT_TRUE(list.sorted);
    const std::vector<TokenCandidate> expected(reference.begin(), reference.begin() + k);
    EXPECT_EQ(ids_of(list.items), ids_of(expected)) << "k=" << k;
  }
}

TEST(TopK, SelectFromRawLogitsMatchesFullSort) {
  const CandidateList original = random_list(131072, 4, 3.0f);
  std::vector<float> logits;
  for (const TokenCandidate& c : original.items) logits.push_back(c.logit);
  const std::vector<TokenCandidate> reference = fully_sorted(original);
  for (int32_t k : {1, 40, 5000}) {
    CandidateList list;
    select_top_k(logits.data(), static_cast<int32_t>(logits.size()), k, list);
    EXPECT_TRUE(list.sorted);
    const std::vector<TokenCandidate> expected(reference.begin(), reference.begin() + k);
    EXPECT_EQ(ids_of(list.items), ids_of(expected)) << "k=" << k;
  }
  // Ties: the lowest ids win, in id order.
  const std::vector<float> flat(100, 0.25f);
  CandidateList list;
  select_top_k(flat.data(), 100, 4, list);
  EXPECT_EQ(ids_of(list.items), (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST(TopK, TiesBrokenByLowerId) {
  CandidateList list;
  for (int32_t token = 0; token < 10; ++token) list.items.push_back({token, token % 2 == 0 ? 1.0f : 0.0f});
  apply_top_k(list, 3);
  EXPECT_EQ(ids_of(list.items), (std::vector<int32_t>{0, 2, 4}));
}

TEST(TopK, DisabledOrLargeKeepsAll) {
  CandidateList list = random_list(50, 2, 1.0f);
  apply_top_k(list, 0);
  EXPECT_EQ(list.items.size(), 50u);
  apply_top_k(list, 50);
  EXPECT_EQ(list.items.size(), 50u);
  EXPECT_FALSE(list.sorted);
}

TEST(TopP, HandWorkedExample) {
  // probs 0.5, 0.2, 0.15, 0.1, 0.05 given in shuffled id order.
  const std::vector<double> probs = {0.1, 0.5, 0.05, 0.2, 0.15};
  auto run = [&](float p) {
    CandidateList list;
    for (size_t token = 0; token < probs.size(); ++token) {
      list.items.push_back({static_cast<int32_t>(token), static_cast<float>(std::log(probs[token]))});
    }
    apply_top_p(list, p);
    return ids_of(list.items);
  };
  EXPECT_EQ(run(0.4f), (std::vector<int32_t>{1}));
  EXPECT_EQ(run(0.6f), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(run(0.72f), (std::vector<int32_t>{1, 3, 4}));
  EXPECT_EQ(run(0.9f), (std::vector<int32_t>{1, 3, 4, 0}));
  EXPECT_EQ(run(0.99f).size(), 5u);
  EXPECT_EQ(run(1.0f).size(), 5u);  // disabled
}

// The smallest best-first prefix with mass >= p, computed with a full sort in double.
size_t reference_top_p_count(const CandidateList& list, double p) {
  const std::vector<TokenCandidate> sorted = fully_sorted(list);
  double total = 0.0;
  for (const TokenCandidate& c : sorted) total += std::exp(static_cast<double>(c.logit - sorted[0].logit));
  double cumulative = 0.0;
  for (size_t rank = 0; rank < sorted.size(); ++rank) {
    cumulative += std::exp(static_cast<double>(sorted[rank].logit - sorted[0].logit)) / total;
    if (cumulative >= p) return rank + 1;
  }
  return sorted.size();
}

TEST(TopP, LargeVocabMatchesFullSortReference) {
  // Several scales so the nucleus spans one, several and all progressive chunks.
  for (float scale : {0.5f, 2.0f, 6.0f}) {
    const CandidateList original = random_list(20000, 7, scale);
    for (float p : {0.5f, 0.9f, 0.95f}) {
      CandidateList list = original;
      apply_top_p(list, p);
      const size_t expected_count = reference_top_p_count(original, p);
      ASSERT_EQ(list.items.size(), expected_count) << "scale=" << scale << " p=" << p;
      const std::vector<TokenCandidate> reference = fully_sorted(original);
      const std::vector<TokenCandidate> expected(reference.begin(), reference.begin() + expected_count);
      EXPECT_EQ(ids_of(list.items), ids_of(expected));
    }
  }
}

TEST(MinP, KeepsTokensAboveFractionOfTopProbability) {
  const std::vector<double> probs = {0.1, 0.4, 0.05, 0.3, 0.15};
  CandidateList list;
  for (size_t token = 0; token < probs.size(); ++token) {
    list.items.push_back({static_cast<int32_t>(token), static_cast<float>(std::log(probs[token]) + 3.0)});
  }
  // threshold 0.3 * 0.4 = 0.12: keeps 0.4, 0.3, 0.15 in their original (id) order.
  apply_min_p(list, 0.3f);
  EXPECT_EQ(ids_of(list.items), (std::vector<int32_t>{1, 3, 4}));
  apply_min_p(list, 1.0f);
  EXPECT_EQ(ids_of(list.items), (std::vector<int32_t>{1}));
}

TEST(MinP, DisabledKeepsAll) {
  CandidateList list = random_list(100, 3, 5.0f);
  apply_min_p(list, 0.0f);
  EXPECT_EQ(list.items.size(), 100u);
}

}  // namespace
}  // namespace frugal
