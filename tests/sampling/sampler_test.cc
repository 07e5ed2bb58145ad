// Tests the Sampler chain: greedy, the temperature distribution (chi-square), truncation through the
// chain, penalties through greedy and top_logprobs, seeding and the portable RNG.
#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <vector>

#include "sampling/rng.h"

namespace frugal {
namespace {

SamplingParams plain_params(float temperature, uint64_t seed) {
  SamplingParams params;
  params.temperature = temperature;
  params.top_k = 0;
  params.top_p = 1.0f;
  params.min_p = 0.0f;
  params.seed = seed;
  return params;
}

std::vector<double> softmax(const std::vector<float>& logits, double temperature) {
  double max_value = *std::max_element(logits.begin(), logits.end());
  std::vector<double> probs;
  double total = 0.0;
  for (float v : logits) {
    probs.push_back(std::exp((v - max_value) / temperature));
    total += probs.back();
  }
  for (double& p : probs) p /= total;
  return probs;
}

std::vector<int> histogram(Sampler& sampler, const std::vector<float>& logits, int n_samples) {
  std::vector<int> counts(logits.size(), 0);
  for (int sample_idx = 0; sample_idx < n_samples; ++sample_idx) ++counts[sampler.sample(logits.data())];
  return counts;
}

double chi_square(const std::vector<int>& counts, const std::vector<double>& probs, int n_samples) {
  double statistic = 0.0;
  for (size_t token = 0; token < counts.size(); ++token) {
    const double expected = probs[token] * n_samples;
    statistic += (counts[token] - expected) * (counts[token] - expected) / expected;
  }
  return statistic;
}

TEST(Sampler, GreedyPicksArgmaxLowestIdOnTies) {
  Sampler sampler(plain_params(0.0f, 1), 5);
  const std::vector<float> logits = {1.0f, 3.0f, -2.0f, 3.0f, 2.9f};
  EXPECT_EQ(sampler.sample(logits.data()), 1);
  const std::vector<float> all_equal(5, 0.5f);
  EXPECT_EQ(sampler.sample(all_equal.data()), 0);
}

TEST(Sampler, DoesNotModifyCallerLogits) {
  SamplingParams params = plain_params(0.9f, 3);
  params.repeat_penalty = 1.5f;
  params.top_k = 2;
  Sampler sampler(params, 4);
  sampler.accept(0);
  const std::vector<float> logits = {2.0f, 1.0f, 0.5f, -1.0f};
  std::vector<float> copy = logits;
  sampler.sample(copy.data());
  EXPECT_EQ(copy, logits);
}

TEST(Sampler, TemperatureDistributionMatchesSoftmaxChiSquare) {
  const std::vector<float> logits = {1.0f, 0.2f, -0.5f, 2.0f, 0.0f, 1.5f};
  constexpr int kSamples = 20000;
  // Critical chi-square value for 5 degrees of freedom at p = 0.001.
  constexpr double kChiSquare5Dof999 = 20.515;
  for (float temperature : {0.5f, 1.0f, 2.0f}) {
    for (uint64_t seed : {11u, 12u}) {
      Sampler sampler(plain_params(temperature, seed), static_cast<int32_t>(logits.size()));
      const std::vector<int> counts = histogram(sampler, logits, kSamples);
      const double statistic = chi_square(counts, softmax(logits, temperature), kSamples);
      EXPECT_LT(statistic, kChiSquare5Dof999) << "T=" << temperature << " seed=" << seed;
    }
  }
  // The test can fail: the T=0.5 counts are far from the T=2 distribution.
  Sampler sampler(plain_params(0.5f, 11), static_cast<int32_t>(logits.size()));
  const std::vector<int> counts = histogram(sampler, logits, kSamples);
  EXPECT_GT(chi_square(counts, softmax(logits, 2.0), kSamples), 1000.0);
}

TEST(Sampler, TopKThroughChainSamplesOnlyKBest) {
  SamplingParams params = plain_params(5.0f, 21);  // hot: without top_k every token would appear
  params.top_k = 3;
  const std::vector<float> logits = {0.1f, 0.9f, 0.3f, 0.8f, 0.2f, 0.85f, 0.0f};
  Sampler sampler(params, static_cast<int32_t>(logits.size()));
  const std::vector<int> counts = histogram(sampler, logits, 3000);
  std::set<int32_t> seen;
  for (size_t token = 0; token < counts.size(); ++token) {
    if (counts[token] > 0) seen.insert(static_cast<int32_t>(token));
  }
  EXPECT_EQ(seen, (std::set<int32_t>{1, 3, 5}));
}

TEST(Sampler, MinPAndTopPThroughChain) {
  // probs 0.5, 0.3, 0.15, 0.05. top_p 0.85 keeps {0,1,2}; min_p 0.4 (threshold 0.2) then keeps {0,1}.
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  SamplingParams params = plain_params(1.0f, 5);
  params.top_p = 0.85f;
  Sampler top_p_only(params, 4);
  std::vector<int> counts = histogram(top_p_only, logits, 4000);
  EXPECT_GT(counts[2], 0);
  EXPECT_EQ(counts[3], 0);
  params.min_p = 0.4f;
  Sampler both(params, 4);
  counts = histogram(both, logits, 4000);
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[1], 0);
  EXPECT_EQ(counts[2] + counts[3], 0);
  // Renormalised over {0, 1}: 0.5/0.8 = 0.625 (tolerance ~5 sigma at n = 4000).
  EXPECT_NEAR(counts[0] / 4000.0, 0.625, 0.04);
}

TEST(Sampler, RepeatPenaltyChangesGreedyOutcome) {
  SamplingParams params = plain_params(0.0f, 1);
  params.repeat_penalty = 1.5f;
  params.repeat_last_n = 2;
  const std::vector<float> logits = {3.0f, 2.5f, 1.0f};
  Sampler sampler(params, 3);
  EXPECT_EQ(sampler.sample(logits.data()), 0);
  sampler.accept(0);  // 3 / 1.5 = 2 < 2.5
  EXPECT_EQ(sampler.sample(logits.data()), 1);
  sampler.accept(1);
  sampler.accept(2);  // window of 2 now holds {1, 2}: token 0 is no longer penalized
  EXPECT_EQ(sampler.sample(logits.data()), 0);
}

TEST(Sampler, TopLogprobsReflectPenaltiesAndTemperature) {
  SamplingParams params = plain_params(2.0f, 1);
  params.repeat_penalty = 1.25f;
  params.presence_penalty = 0.5f;
  params.frequency_penalty = 0.1f;
  params.repeat_last_n = -1;
  const std::vector<float> logits = {1.0f, 2.0f, -1.0f, 0.5f};
  Sampler sampler(params, 4);
  sampler.accept(1);
  sampler.accept(1);
  sampler.accept(2);
  // Penalized by hand: token 1: 2/1.25 - (2*0.1 + 0.5) = 0.9; token 2: -1*1.25 - 0.6 = -1.85.
  const std::vector<float> penalized = {1.0f, 0.9f, -1.85f, 0.5f};
  const std::vector<double> probs = softmax(penalized, 2.0);
  const auto top = sampler.top_logprobs(logits.data(), 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].token, 0);
  EXPECT_EQ(top[1].token, 1);
  EXPECT_EQ(top[2].token, 3);
  for (const auto& entry : top) EXPECT_NEAR(entry.logprob, std::log(probs[entry.token]), 1e-5);
  EXPECT_NEAR(sampler.token_logprob(logits.data(), 2), std::log(probs[2]), 1e-5);
  EXPECT_EQ(sampler.top_logprobs(logits.data(), 10).size(), 4u);
}

std::vector<int32_t> draw_sequence(Sampler& sampler, const std::vector<float>& logits, int n_draws) {
  std::vector<int32_t> sequence;
  for (int draw_idx = 0; draw_idx < n_draws; ++draw_idx) sequence.push_back(sampler.sample(logits.data()));
  return sequence;
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedDifferent) {
  const std::vector<float> logits = {0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f};
  Sampler a(plain_params(1.0f, 42), 8);
  Sampler b(plain_params(1.0f, 42), 8);
  Sampler c(plain_params(1.0f, 43), 8);
  const auto seq_a = draw_sequence(a, logits, 200);
  EXPECT_EQ(seq_a, draw_sequence(b, logits, 200));
  // Equal by chance with probability < (max prob)^200, about 1e-120.
  EXPECT_NE(seq_a, draw_sequence(c, logits, 200));
  a.reset();
  EXPECT_EQ(a.seed(), 42u);
  EXPECT_EQ(draw_sequence(a, logits, 200), seq_a);
}

TEST(Sampler, RandomSeedDiffersBetweenSamplers) {
  const std::vector<float> logits = {0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f};
  Sampler a(plain_params(1.0f, kRandomSeed), 8);
  Sampler b(plain_params(1.0f, kRandomSeed), 8);
  EXPECT_NE(draw_sequence(a, logits, 200), draw_sequence(b, logits, 200));
}

TEST(SamplerRng, MatchesStandardMandatedMt19937_64Value) {
  // [rand.predef]: the 10000th output of a default-seeded (5489) mt19937_64 is 9981545732273789042.
  SamplerRng rng(5489u);
  double value = 0.0;
  for (int draw_idx = 0; draw_idx < 10000; ++draw_idx) value = rng.uniform();
  EXPECT_EQ(value, static_cast<double>(9981545732273789042ull >> 11) / 9007199254740992.0);
}

TEST(Sampler, LargeVocabTopKStaysInTopK) {
  constexpr int32_t kVocab = 128256;
  std::mt19937_64 engine(9);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(kVocab);
  for (float& v : logits) v = normal(engine);
  std::vector<float> sorted = logits;
  std::nth_element(sorted.begin(), sorted.begin() + 39, sorted.end(), std::greater<float>());
  const float fortieth_best = sorted[39];
  SamplingParams params;  // defaults: top_k 40, top_p 0.95, min_p 0.05, T 0.8
  params.seed = 77;
  Sampler sampler(params, kVocab);
  for (int draw_idx = 0; draw_idx < 64; ++draw_idx) {
    EXPECT_GE(logits[sampler.sample(logits.data())], fortieth_best);
  }
}

}  // namespace
}  // namespace frugal
