// frugal: the command-line entry point (tools layer). Each subcommand lives in cli_<name>.cc.
#include <CLI/CLI.hpp>

#include "cli_common.h"

int main(int argc, char** argv) {
  CLI::App app{"frugal: self-hosted LLM and video inference that knows its cost per token and per video"};
  app.require_subcommand(1);
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
  frugal::cli::register_convert(app);
  frugal::cli::register_video(app);
  frugal::cli::register_text_encode(app);
  frugal::cli::register_vae(app);
  frugal::cli::register_video_eval(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
