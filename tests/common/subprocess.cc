#include "common/subprocess.h"

#include <sys/wait.h>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace frugal::testing {
namespace {

// Every test binary that runs `frugal` gives it a state folder of its own (removed at exit), so what
// a command makes on first use (the watermark key, the C2PA development signer) never lands in the
// tester's $HOME and tests never share it. A test that names FRUGAL_STATE_DIR itself still wins.
void isolate_state_dir() {
  static const bool done = [] {
    const char* set = std::getenv("FRUGAL_STATE_DIR");
    if (set != nullptr && *set != '\0') return true;
    static const std::string dir =
        (std::filesystem::temp_directory_path() / ("frugal_test_state_" + std::to_string(::getpid()))).string();
    ::setenv("FRUGAL_STATE_DIR", dir.c_str(), 1);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    });
    return true;
  }();
  (void)done;
}

}  // namespace

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string frugal_binary() {
  isolate_state_dir();
  return std::string(FRUGAL_BINARY_DIR) + "/frugal";
}

}  // namespace frugal::testing
