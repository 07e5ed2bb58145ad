// Expected<T>: a value or a Status (core layer). std::expected is C++23; this is the small subset we use.
#pragma once

#include <utility>
#include <variant>

#include "core/check.h"
#include "core/status.h"

namespace frugal {

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Expected(Status status) : storage_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    CHECK(!std::get<1>(storage_).is_ok(), "Expected constructed from an OK status");
  }

  bool has_value() const { return storage_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { CHECK(has_value(), "Expected::value() on error: " + error().to_string()); return std::get<0>(storage_); }
  const T& value() const& { CHECK(has_value(), "Expected::value() on error: " + error().to_string()); return std::get<0>(storage_); }
  T&& value() && { CHECK(has_value(), "Expected::value() on error"); return std::get<0>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Status& error() const {
    static const Status kOkStatus;
    return has_value() ? kOkStatus : std::get<1>(storage_);
  }

 private:
  std::variant<T, Status> storage_;
};

}  // namespace frugal
