// Test helper: run a shell command and capture its output and exit status.
#pragma once

#include <string>

namespace frugal::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout (and stderr when the command redirects it)
};

CommandResult run_command(const std::string& command);
// Path of the built `frugal` binary (FRUGAL_BINARY_DIR/frugal). The first call points
// $FRUGAL_STATE_DIR at a temporary folder of this test process unless it is already set.
std::string frugal_binary();

}  // namespace frugal::testing
