// Tests the repetition penalties against the formulas written out by hand.
#include "sampling/penalties.h"

#include <gtest/gtest.h>

#include <vector>

namespace frugal {
namespace {

TEST(Penalties, WindowSelection) {
  const std::vector<int32_t> history = {5, 6, 7, 8};
  EXPECT_TRUE(penalty_window(history, 0).empty());
  EXPECT_EQ(penalty_window(history, -1).size(), 4u);
  const auto last_two = penalty_window(history, 2);
  ASSERT_EQ(last_two.size(), 2u);
  EXPECT_EQ(last_two[0], 7);
  EXPECT_EQ(last_two[1], 8);
  EXPECT_EQ(penalty_window(history, 64).size(), 4u);
}

TEST(Penalties, ChangeExactlyTheSeenTokensByTheFormulas) {
  SamplingParams params;
  params.repeat_penalty = 2.0f;
  params.presence_penalty = 0.5f;
  params.frequency_penalty = 0.25f;
  std::vector<float> logits = {2.0f, -2.0f, 1.0f, 0.5f, 3.0f};
  const std::vector<int32_t> window = {0, 1, 0, 99, -3};  // out-of-vocab ids are ignored
  apply_penalties(params, window, logits.data(), static_cast<int32_t>(logits.size()));
  // token 0: seen twice, positive: 2/2 - (2*0.25 + 0.5) = 0
  EXPECT_FLOAT_EQ(logits[0], 0.0f);
  // token 1: seen once, negative: -2*2 - (0.25 + 0.5) = -4.75
  EXPECT_FLOAT_EQ(logits[1], -4.75f);
  EXPECT_EQ(logits[2], 1.0f);
  EXPECT_EQ(logits[3], 0.5f);
  EXPECT_EQ(logits[4], 3.0f);
}

TEST(Penalties, DisabledParamsLeaveLogitsAlone) {
  SamplingParams params;  // repeat_penalty 1, presence 0, frequency 0
  EXPECT_TRUE(penalties_disabled(params));
  params.repeat_penalty = 1.3f;
  params.repeat_last_n = 0;
  EXPECT_TRUE(penalties_disabled(params));
  std::vector<float> logits = {1.0f, 2.0f};
  const std::vector<int32_t> window = {0, 1};
  apply_penalties(params, window, logits.data(), 2);
  EXPECT_EQ(logits[0], 1.0f);
  EXPECT_EQ(logits[1], 2.0f);
}

TEST(Penalties, ZeroLogitIsMultiplied) {
  // llama.cpp: logit <= 0 is multiplied, so 0 stays 0 under repeat_penalty alone.
  SamplingParams params;
  params.repeat_penalty = 1.5f;
  std::vector<float> logits = {0.0f, -1.0f};
  const std::vector<int32_t> window = {0, 1};
  apply_penalties(params, window, logits.data(), 2);
  EXPECT_EQ(logits[0], 0.0f);
  EXPECT_FLOAT_EQ(logits[1], -1.5f);
}

}  // namespace
}  // namespace frugal
