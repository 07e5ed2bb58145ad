// Status: a typed error value for expected failures at module boundaries (core layer).
// Programmer errors use CHECK (core/check.h); exceptions never cross a module boundary.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace frugal {

enum class StatusCode {
  kOk,
  kInvalidArgument,    // bad user input: flags, request fields, prompts
  kNotFound,           // missing file, key, tensor, model
  kOutOfRange,         // an index/offset/size beyond its container (e.g. a tensor outside the file)
  kResourceExhausted,  // out of memory, context full, queue full
  kUnavailable,        // temporarily unable (shutting down, overloaded)
  kCancelled,          // the caller went away
  kDataLoss,           // corrupt or truncated data
  kUnimplemented,      // valid but unsupported (unknown architecture, tensor type)
  kInternal,           // a bug or an unexpected system failure
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message"
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
inline Status not_found(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
inline Status out_of_range(std::string msg) { return {StatusCode::kOutOfRange, std::move(msg)}; }
inline Status resource_exhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }
inline Status unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
inline Status data_loss(std::string msg) { return {StatusCode::kDataLoss, std::move(msg)}; }
inline Status unimplemented(std::string msg) { return {StatusCode::kUnimplemented, std::move(msg)}; }
inline Status internal_error(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

}  // namespace frugal
