// logit_bias in the Sampler: -100 bans a token in every path (greedy, sampling, speculative
// verification, logprobs), other biases add to the raw logits, and out-of-range biases are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sampling/sampler.h"

namespace frugal {
namespace {

SamplingParams params_with_bias(float temperature, std::vector<std::pair<int32_t, float>> bias) {
  SamplingParams params;
  params.temperature = temperature;
  params.top_k = 0;
  params.top_p = 1.0f;
  params.min_p = 0.0f;
  params.seed = 11;
  params.logit_bias = std::move(bias);
  return params;
}

TEST(LogitBias, ABanOfMinus100IsNeverSampled) {
  // Token 2 is by far the most likely; tokens 0 and 2 are banned.
  const std::vector<float> logits = {3.0f, 1.0f, 50.0f, 0.5f};
  Sampler greedy(params_with_bias(0.0f, {{2, -100.0f}, {0, -100.0f}}), 4);
  EXPECT_EQ(greedy.sample(logits.data()), 1);
  Sampler hot(params_with_bias(2.0f, {{2, -100.0f}, {0, -100.0f}}), 4);
  for (int draw = 0; draw < 2000; ++draw) {
    const int32_t token = hot.sample(logits.data());
    ASSERT_TRUE(token == 1 || token == 3) << token;
  }
  // A draft proposing a banned token is always rejected.
  for (int draw = 0; draw < 200; ++draw) {
    const Sampler::Verdict verdict = hot.verify(logits.data(), 2);
    ASSERT_FALSE(verdict.accepted);
    ASSERT_TRUE(verdict.token == 1 || verdict.token == 3);
  }
  EXPECT_TRUE(std::isinf(hot.token_logprob(logits.data(), 2)));
}

TEST(LogitBias, BiasesAddToTheRawLogits) {
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f};
  Sampler sampler(params_with_bias(0.0f, {{0, 5.0f}}), 3);
  EXPECT_EQ(sampler.sample(logits.data()), 0);  // 1 + 5 > 3
  Sampler weak(params_with_bias(1.0f, {{2, -1.0f}}), 3);
  const auto top = weak.top_logprobs(logits.data(), 3);
  EXPECT_EQ(top[0].token, 1);  // 2 beats 3 - 1 = 2 on the lower id
  EXPECT_NEAR(top[0].logprob, top[1].logprob, 1e-6);
}

TEST(LogitBias, OutOfRangeBiasesAndNegativeIdsAreInvalid) {
  EXPECT_FALSE(params_with_bias(1.0f, {{0, 100.5f}}).validate().is_ok());
  EXPECT_FALSE(params_with_bias(1.0f, {{0, -101.0f}}).validate().is_ok());
  EXPECT_FALSE(params_with_bias(1.0f, {{0, NAN}}).validate().is_ok());
  EXPECT_FALSE(params_with_bias(1.0f, {{-1, 1.0f}}).validate().is_ok());
  EXPECT_TRUE(params_with_bias(1.0f, {{0, -100.0f}, {1, 100.0f}}).validate().is_ok());
}

}  // namespace
}  // namespace frugal
