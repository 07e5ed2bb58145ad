// The tile-Q8 (AMX-INT8) group setting (kernels layer): FRUGAL_AMX_Q8 read once, overridable by
// set_amx_q8_group (kernel_table.h).
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/logging.h"
#include "kernels/kernel_table.h"

namespace frugal {
namespace {

// The default: one scale per row (docs/design/layering.md, "AMX-INT8 Q8_0 prefill").
constexpr int64_t kDefaultGroup = kAmxQ8PerRow;

int64_t initial_group() {
  const char* env = std::getenv("FRUGAL_AMX_Q8");
  if (env == nullptr || *env == '\0') return kDefaultGroup;
  const std::string_view v(env);
  if (v == "off") return kAmxQ8Off;
  if (v == "row") return kAmxQ8PerRow;
  int64_t group = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), group);
  if (ec == std::errc() && end == v.data() + v.size() && group > 0 && group % 64 == 0) return group;
  log_warn("FRUGAL_AMX_Q8=" + std::string(v) + " is not one of off|row|<a multiple of 64>; using the default");
  return kDefaultGroup;
}

std::atomic<int64_t>& group_state() {
  static std::atomic<int64_t> group{initial_group()};
  return group;
}

}  // namespace

int64_t amx_q8_group() { return group_state().load(std::memory_order_relaxed); }
void set_amx_q8_group(int64_t group) { group_state().store(group, std::memory_order_relaxed); }

}  // namespace frugal
