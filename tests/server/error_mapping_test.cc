// Status codes and HTTP-layer failures -> HTTP status + OpenAI error JSON.
#include "server/error_mapping.h"

#include <gtest/gtest.h>

namespace frugal {
namespace {

struct MappingCase {
  StatusCode code;
  int http_status;
  const char* type;
};

TEST(ErrorMapping, EveryStatusCodeHasItsHttpStatus) {
  const MappingCase cases[] = {
      {StatusCode::kInvalidArgument, 400, "invalid_request_error"},
      {StatusCode::kOutOfRange, 400, "invalid_request_error"},
      {StatusCode::kUnimplemented, 400, "invalid_request_error"},
      {StatusCode::kNotFound, 404, "invalid_request_error"},
      {StatusCode::kResourceExhausted, 429, "rate_limit_error"},
      {StatusCode::kUnavailable, 503, "server_error"},
      {StatusCode::kCancelled, 499, "server_error"},
      {StatusCode::kDataLoss, 500, "server_error"},
      {StatusCode::kInternal, 500, "server_error"},
  };
  for (const MappingCase& c : cases) {
    const ApiError error = api_error_from_status(Status(c.code, "msg"));
    EXPECT_EQ(error.http_status, c.http_status) << status_code_name(c.code);
    EXPECT_EQ(error.type, c.type) << status_code_name(c.code);
    EXPECT_EQ(error.message, "msg");
    EXPECT_EQ(error.retry_after_seconds > 0, c.code == StatusCode::kResourceExhausted);
  }
}

TEST(ErrorMapping, JsonShapeHasAllFourFieldsWithNulls) {
  const nlohmann::json body = api_error_json(api_error_from_status(internal_error("boom")));
  ASSERT_TRUE(body.contains("error"));
  const auto& e = body["error"];
  EXPECT_EQ(e["message"], "boom");
  EXPECT_EQ(e["type"], "server_error");
  EXPECT_TRUE(e["param"].is_null());
  EXPECT_EQ(e["code"], "internal_error");
  const nlohmann::json field = api_error_json(invalid_field_error("max_tokens", "too big"));
  EXPECT_EQ(field["error"]["param"], "max_tokens");
  EXPECT_TRUE(field["error"]["code"].is_null());
}

TEST(ErrorMapping, HttpLayerErrors) {
  EXPECT_EQ(http_layer_error(404, "/nope").http_status, 404);
  EXPECT_NE(http_layer_error(404, "/nope").message.find("/nope"), std::string::npos);
  EXPECT_EQ(http_layer_error(405, "/health").http_status, 405);
  EXPECT_EQ(http_layer_error(413, "/v1/completions").code, "request_too_large");
  EXPECT_EQ(auth_error("x").http_status, 401);
  EXPECT_EQ(auth_error("x").type, "authentication_error");
  EXPECT_EQ(unknown_model_error("gpt").http_status, 404);
  EXPECT_EQ(unknown_model_error("gpt").code, "model_not_found");
  EXPECT_EQ(shutting_down_error().http_status, 503);
  EXPECT_EQ(request_timeout_error(3).http_status, 504);
}

TEST(ErrorMapping, InvalidUtf8InMessagesIsReplacedNotThrown) {
  const std::string body = api_error_body(invalid_field_error("prompt", "bad \xff byte"));
  EXPECT_NE(body.find("\xEF\xBF\xBD"), std::string::npos);
}

}  // namespace
}  // namespace frugal
