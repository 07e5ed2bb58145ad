// Tests SamplingParams::validate: every rejected field is named in the error.
#include "sampling/sampling_params.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

namespace frugal {
namespace {

void expect_rejected(const std::function<void(SamplingParams&)>& mutate, const std::string& field) {
  SamplingParams params;
  mutate(params);
  const Status status = params.validate();
  ASSERT_FALSE(status.is_ok()) << field;
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("'" + field + "'"), std::string::npos) << status.message();
}

TEST(SamplingParams, DefaultsAreValid) { EXPECT_TRUE(SamplingParams{}.validate().is_ok()); }

TEST(SamplingParams, BoundaryValuesAreValid) {
  SamplingParams params;
  params.temperature = 0.0f;
  params.top_p = 1.0f;
  params.min_p = 0.0f;
  params.repeat_last_n = -1;
  params.presence_penalty = -2.0f;
  params.frequency_penalty = 2.0f;
  params.top_k = -5;
  EXPECT_TRUE(params.validate().is_ok());
  params.min_p = 1.0f;
  EXPECT_TRUE(params.validate().is_ok());
}

TEST(SamplingParams, RejectsBadFieldsByName) {
  expect_rejected([](SamplingParams& p) { p.temperature = -0.1f; }, "temperature");
  expect_rejected([](SamplingParams& p) { p.temperature = NAN; }, "temperature");
  expect_rejected([](SamplingParams& p) { p.temperature = INFINITY; }, "temperature");
  expect_rejected([](SamplingParams& p) { p.top_p = 0.0f; }, "top_p");
  expect_rejected([](SamplingParams& p) { p.top_p = 1.01f; }, "top_p");
  expect_rejected([](SamplingParams& p) { p.top_p = NAN; }, "top_p");
  expect_rejected([](SamplingParams& p) { p.min_p = -0.01f; }, "min_p");
  expect_rejected([](SamplingParams& p) { p.min_p = 1.5f; }, "min_p");
  expect_rejected([](SamplingParams& p) { p.repeat_penalty = 0.0f; }, "repeat_penalty");
  expect_rejected([](SamplingParams& p) { p.repeat_penalty = NAN; }, "repeat_penalty");
  expect_rejected([](SamplingParams& p) { p.repeat_last_n = -2; }, "repeat_last_n");
  expect_rejected([](SamplingParams& p) { p.presence_penalty = 2.5f; }, "presence_penalty");
  expect_rejected([](SamplingParams& p) { p.frequency_penalty = -3.0f; }, "frequency_penalty");
  expect_rejected([](SamplingParams& p) { p.frequency_penalty = NAN; }, "frequency_penalty");
}

}  // namespace
}  // namespace frugal
