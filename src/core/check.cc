#include "core/check.h"

#include <cstdio>
#include <cstdlib>

namespace frugal::detail {

void check_failed(const char* file, int line, const char* expr, std::string_view message) {
  std::fprintf(stderr, "CHECK failed at %s:%d: %s %.*s\n", file, line, expr, static_cast<int>(message.size()),
               message.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace frugal::detail
