// CHECK / DCHECK: assertions for programmer errors (core layer). Never used on user input:
// bad input is a Status. A failed CHECK prints file:line and the message, then aborts.
#pragma once

#include <string>
#include <string_view>

namespace frugal::detail {
[[noreturn]] void check_failed(const char* file, int line, const char* expr, std::string_view message);
}  // namespace frugal::detail

#define CHECK(cond, ...)                                                                   \
  do {                                                                                     \
    if (!(cond)) [[unlikely]] ::frugal::detail::check_failed(__FILE__, __LINE__, #cond, \
                                                                 std::string_view{__VA_ARGS__}); \
  } while (0)

#ifdef NDEBUG
#define DCHECK(cond, ...) \
  do {                    \
  } while (0)
#else
#define DCHECK(cond, ...) CHECK(cond, __VA_ARGS__)
#endif
