// `frugal imatrix` (cli_imatrix.cc): its subcommand registration.
#pragma once

#include <CLI/CLI.hpp>

namespace frugal::cli {

void register_imatrix(CLI::App& app);

}  // namespace frugal::cli
