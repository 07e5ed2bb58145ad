// frugal: the command-line entry point (tools layer). Each subcommand lives in cli_<name>.cc.
// A bare `frugal` prints the usage; `frugal --version` the version and the git commit it was built from.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "cli_common.h"
#include "cli_imatrix.h"
#include "cli_worker.h"

namespace frugal::cli {
const char* frugal_version();     // generated at build time (cmake/version.cmake)
const char* frugal_git_commit();
}  // namespace frugal::cli

int main(int argc, char** argv) {
  CLI::App app{"frugal: self-hosted LLM and video inference that knows its cost per token and per video"};
  app.require_subcommand(0, 1);
  app.set_version_flag("-V,--version", std::string("frugal ") + frugal::cli::frugal_version() + " (git " +
                                           frugal::cli::frugal_git_commit() + ")");
  frugal::cli::register_run(app);
  frugal::cli::register_inspect(app);
  frugal::cli::register_tokenize(app);
  frugal::cli::register_logits(app);
  frugal::cli::register_mkmodel(app);
  frugal::cli::register_quantize(app);
  frugal::cli::register_plan(app);
  frugal::cli::register_serve(app);
  frugal::cli::register_bench(app);
  frugal::cli::register_loadgen(app);
  frugal::cli::register_chat(app);
  frugal::cli::register_perplexity(app);
  frugal::cli::register_imatrix(app);
  frugal::cli::register_convert(app);
  frugal::cli::register_gguf_set(app);
  frugal::cli::register_video(app);
  frugal::cli::register_text_encode(app);
  frugal::cli::register_vae(app);
  frugal::cli::register_video_eval(app);
  frugal::cli::register_watermark(app);
  frugal::cli::register_audit(app);
  frugal::cli::register_worker(app);
  CLI11_PARSE(app, argc, argv);
  if (app.get_subcommands().empty()) {  // a bare `frugal`: say what it can do
    std::fputs(app.help().c_str(), stdout);
    std::fputs("\nStart with `make serve` (README.md), or `frugal <command> --help` for a command's flags.\n", stdout);
  }
  return 0;
}
