// The one place that turns failures into HTTP statuses and OpenAI error bodies (server layer):
// {"error": {"message", "type", "param", "code"}}.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace frugal {

struct ApiError {
  int http_status = 500;
  std::string type;     // "invalid_request_error", "authentication_error", "rate_limit_error", ...
  std::string message;
  std::string param;    // the offending request field; "" -> null
  std::string code;     // machine-readable detail; "" -> null
  int retry_after_seconds = 0;  // > 0: send a Retry-After header (429)
  std::string category;         // content_policy_*: the moderation category (an extra "category" field)
};

// kInvalidArgument/kOutOfRange/kUnimplemented -> 400, kNotFound -> 404, kResourceExhausted -> 429
// (Retry-After), kUnavailable -> 503, kCancelled -> 499 (client closed request), others -> 500.
ApiError api_error_from_status(const Status& status, std::string param = "");

// A bad request field: 400, naming the field in `param`.
ApiError invalid_field_error(std::string param, std::string message);
ApiError unknown_model_error(const std::string& model);            // 404 model_not_found
ApiError auth_error(std::string message);                          // 401 invalid_api_key
ApiError permission_error(std::string message);                    // 403 insufficient_permissions
ApiError request_timeout_error(double timeout_seconds);            // 504 request_timeout
ApiError shutting_down_error();                                    // 503 server_shutting_down
// Errors the HTTP layer produces before a handler runs, by status: 400 (unparsable HTTP),
// 404 (unknown route), 405 (wrong method), 413 (body too large); anything else -> its generic text.
ApiError http_layer_error(int http_status, const std::string& path);

nlohmann::json api_error_json(const ApiError& error);
std::string api_error_body(const ApiError& error);

}  // namespace frugal
