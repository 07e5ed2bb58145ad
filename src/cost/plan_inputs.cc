#include "cost/plan_inputs.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace frugal {
namespace {

std::string shown(double value) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%g", value);
  return buf;
}

Status bad(std::string_view name, double value, std::string_view range) {
  return invalid_argument(std::string(name) + " must be " + std::string(range) + " (got " + shown(value) + ")");
}

}  // namespace

Status check_fraction(std::string_view name, double value) {
  if (!std::isfinite(value) || value <= 0 || value > 1) return bad(name, value, "a fraction in (0, 1]");
  return Status::ok();
}

Status check_positive(std::string_view name, double value) {
  if (!std::isfinite(value) || value <= 0) return bad(name, value, "a finite number > 0");
  return Status::ok();
}

Status check_non_negative(std::string_view name, double value) {
  if (!std::isfinite(value) || value < 0) return bad(name, value, "a finite number >= 0");
  return Status::ok();
}

Status check_at_least(std::string_view name, int64_t value, int64_t min) {
  if (value < min) return bad(name, static_cast<double>(value), ">= " + std::to_string(min));
  return Status::ok();
}

}  // namespace frugal
