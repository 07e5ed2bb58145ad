#include "core/state_dir.h"

#include <cstdlib>

namespace frugal {

namespace {
const char* non_empty_env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}
}  // namespace

std::string default_state_dir() {
  if (const char* dir = non_empty_env("FRUGAL_STATE_DIR")) return dir;
  if (const char* xdg = non_empty_env("XDG_STATE_HOME")) return std::string(xdg) + "/frugal";
  if (const char* home = non_empty_env("HOME")) return std::string(home) + "/.local/state/frugal";
  return "frugal-state";
}

}  // namespace frugal
