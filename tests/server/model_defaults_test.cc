// The model's recommended settings fill only the fields a request body leaves out.
#include "server/model_defaults.h"

#include <gtest/gtest.h>

namespace frugal {
namespace {

using json = nlohmann::json;

SamplingDefaults bundled_like() {
  SamplingDefaults d;
  d.temperature = 0.8f;
  d.top_k = 40;
  d.top_p = 0.95f;
  d.min_p = 0.05f;
  d.max_tokens = 64;
  return d;
}

ApiRequest parsed(const json& body) {
  ApiRequest request;
  EXPECT_FALSE(parse_api_request(ApiEndpoint::kChatCompletions, body, request));
  return request;
}

const json kMessages = json::array({{{"role", "user"}, {"content", "Hi"}}});

TEST(ModelDefaults, FillTheFieldsTheRequestLeftOut) {
  const json body{{"messages", kMessages}};
  ApiRequest request = parsed(body);
  apply_model_defaults(body, bundled_like(), 256, request);
  EXPECT_FLOAT_EQ(request.sampling.temperature, 0.8f);
  EXPECT_EQ(request.sampling.top_k, 40);
  EXPECT_FLOAT_EQ(request.sampling.top_p, 0.95f);
  EXPECT_FLOAT_EQ(request.sampling.min_p, 0.05f);
  EXPECT_EQ(request.max_tokens, 64);
}

TEST(ModelDefaults, NeverOverrideWhatTheClientSent) {
  const json body{{"messages", kMessages}, {"temperature", 0.2}, {"top_k", 5}, {"max_tokens", 7}, {"min_p", 0}};
  ApiRequest request = parsed(body);
  apply_model_defaults(body, bundled_like(), 256, request);
  EXPECT_FLOAT_EQ(request.sampling.temperature, 0.2f);
  EXPECT_EQ(request.sampling.top_k, 5);
  EXPECT_FLOAT_EQ(request.sampling.min_p, 0.0f);
  EXPECT_FLOAT_EQ(request.sampling.top_p, 0.95f);  // not sent: the model's
  EXPECT_EQ(request.max_tokens, 7);
}

TEST(ModelDefaults, TopPZeroStaysGreedy) {
  const json body{{"messages", kMessages}, {"top_p", 0}};
  ApiRequest request = parsed(body);
  apply_model_defaults(body, bundled_like(), 256, request);
  EXPECT_EQ(request.sampling.temperature, 0.0f);
}

TEST(ModelDefaults, DefaultMaxTokensIsCappedByTheContext) {
  const json body{{"messages", kMessages}};
  ApiRequest request = parsed(body);
  apply_model_defaults(body, bundled_like(), 32, request);
  EXPECT_EQ(request.max_tokens, 32);
}

}  // namespace
}  // namespace frugal
