// `frugal worker` (cli_worker.cc): its subcommand registration.
#pragma once

#include <CLI/CLI.hpp>

namespace frugal::cli {

void register_worker(CLI::App& app);

}  // namespace frugal::cli
