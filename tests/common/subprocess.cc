#include "common/subprocess.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>

namespace frugal::testing {

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

std::string frugal_binary() { return std::string(FRUGAL_BINARY_DIR) + "/frugal"; }

}  // namespace frugal::testing
