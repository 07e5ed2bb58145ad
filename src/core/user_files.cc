#include "core/user_files.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace frugal {

Status write_file_atomically(const std::string& path, const std::string& contents) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec) return unavailable("cannot create " + target.parent_path().string() + ": " + ec.message());
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return unavailable("cannot write " + tmp);
    out << contents;
    if (!out) return unavailable("write failed: " + tmp);
  }
  fs::rename(tmp, target, ec);
  if (ec) return unavailable("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::ok();
}

std::string user_cache_file(const std::string& explicit_path, const char* env_var, const std::string& file_name) {
  if (!explicit_path.empty()) return explicit_path;
  if (const char* env = std::getenv(env_var); env != nullptr && *env != '\0') return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/frugal/" + file_name;
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.cache/frugal/" + file_name;
}

}  // namespace frugal
