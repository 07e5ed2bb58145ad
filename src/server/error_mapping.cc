#include "server/error_mapping.h"

#include <cmath>

namespace frugal {
namespace {

ApiError make_error(int http_status, std::string type, std::string message, std::string param = "",
                    std::string code = "") {
  ApiError error;
  error.http_status = http_status;
  error.type = std::move(type);
  error.message = std::move(message);
  error.param = std::move(param);
  error.code = std::move(code);
  return error;
}

}  // namespace

ApiError api_error_from_status(const Status& status, std::string param) {
  const std::string& message = status.message();
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      return make_error(400, "invalid_request_error", message, std::move(param));
    case StatusCode::kUnimplemented:
      return make_error(400, "invalid_request_error", message, std::move(param), "unsupported");
    case StatusCode::kNotFound:
      return make_error(404, "invalid_request_error", message, std::move(param), "not_found");
    case StatusCode::kResourceExhausted: {
      ApiError error = make_error(429, "rate_limit_error", message, "", "queue_full");
      error.retry_after_seconds = 1;  // a queue slot frees as soon as any request finishes
      return error;
    }
    case StatusCode::kUnavailable:
      return make_error(503, "server_error", message, "", "service_unavailable");
    case StatusCode::kCancelled:
      return make_error(499, "server_error", message, "", "cancelled");
    case StatusCode::kOk:
      return make_error(500, "server_error", "internal error: an OK status reported as a failure");
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      break;
  }
  return make_error(500, "server_error", message, "", "internal_error");
}

ApiError invalid_field_error(std::string param, std::string message) {
  return make_error(400, "invalid_request_error", std::move(message), std::move(param));
}

ApiError unknown_model_error(const std::string& model) {
  return make_error(404, "invalid_request_error", "The model '" + model + "' does not exist", "model",
                    "model_not_found");
}

ApiError auth_error(std::string message) {
  return make_error(401, "authentication_error", std::move(message), "", "invalid_api_key");
}

ApiError permission_error(std::string message) {
  return make_error(403, "permission_error", std::move(message), "", "insufficient_permissions");
}

ApiError request_timeout_error(double timeout_seconds) {
  return make_error(504, "server_error",
                    "The request exceeded the server's time limit of " + std::to_string(std::lround(timeout_seconds)) +
                        " s and was cancelled",
                    "", "request_timeout");
}

ApiError shutting_down_error() {
  return make_error(503, "server_error", "The server is shutting down", "", "server_shutting_down");
}

ApiError http_layer_error(int http_status, const std::string& path) {
  switch (http_status) {
    case 400:
      return make_error(400, "invalid_request_error", "Malformed HTTP request");
    case 404:
      return make_error(404, "invalid_request_error", "Unknown route: " + path, "", "unknown_route");
    case 405:
      return make_error(405, "invalid_request_error", "Method not allowed for " + path, "", "method_not_allowed");
    case 413:
      return make_error(413, "invalid_request_error", "Request body too large", "", "request_too_large");
    default:
      break;
  }
  return make_error(http_status, http_status >= 500 ? "server_error" : "invalid_request_error",
                    "HTTP error " + std::to_string(http_status));
}

nlohmann::json api_error_json(const ApiError& error) {
  nlohmann::json body = {{"message", error.message}, {"type", error.type}};
  body["param"] = error.param.empty() ? nlohmann::json(nullptr) : nlohmann::json(error.param);
  body["code"] = error.code.empty() ? nlohmann::json(nullptr) : nlohmann::json(error.code);
  if (!error.category.empty()) body["category"] = error.category;
  return nlohmann::json{{"error", std::move(body)}};
}

std::string api_error_body(const ApiError& error) {
  // Messages can quote user input; replace invalid UTF-8 rather than throw.
  return api_error_json(error).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace frugal
