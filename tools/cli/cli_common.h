// Shared pieces of the `frugal` subcommands (tools layer): loading a model with its tokenizer,
// sampling flags, error printing.
#pragma once

#include <CLI/CLI.hpp>
#include <signal.h>

#include <memory>
#include <string>

#include "core/expected.h"
#include "core/thread_pool.h"
#include "engine/sampling_defaults.h"
#include "model/model.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace frugal::cli {

struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
};

// Loads and validates the model and its tokenizer; errors are printed by the caller.
Expected<LoadedModel> load_model(const std::string& path);

// The sampling flags of a subcommand, to tell which ones the user gave (after parsing).
struct SamplingFlagOptions {
  CLI::Option* temp = nullptr;
  CLI::Option* top_k = nullptr;
  CLI::Option* top_p = nullptr;
  CLI::Option* min_p = nullptr;
  CLI::Option* repeat_penalty = nullptr;
  CLI::Option* repeat_last_n = nullptr;
};

// Adds --temp, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n, --presence-penalty,
// --frequency-penalty, --seed to a subcommand, writing into params.
SamplingFlagOptions add_sampling_flags(CLI::App& app, SamplingParams& params);
// Which of them were given: the model's recommended settings (engine/sampling_defaults.h) fill the others.
SamplingGiven sampling_given(const SamplingFlagOptions& flags);

// quantize_rows split over the pool's threads (row chunks are independent, so the bytes are the
// same as a single-threaded call); with `importance` [row_len], quantize_rows_weighted.
Expected<std::vector<uint8_t>> parallel_quantize(ThreadPool& pool, DType dtype, const float* src, int64_t n_rows,
                                                 int64_t row_len, const float* importance = nullptr);

// "1.50 GiB", "512 B": binary units, two decimals.
std::string human_bytes(double bytes);

// For a long-running command (serve, worker): blocks SIGINT and SIGTERM in the calling thread —
// call it before any thread starts, so every thread inherits the mask and one thread can sigwait()
// on the returned set — and ignores SIGPIPE (a vanished client must not kill the process).
sigset_t block_stop_signals();

// Prints "frugal: error: <status>" to stderr and returns the process exit code for it.
int report_error(const Status& status);

// Subcommand registration (one file each: cli_<name>.cc).
void register_run(CLI::App& app);
void register_inspect(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_logits(CLI::App& app);
void register_mkmodel(CLI::App& app);
void register_quantize(CLI::App& app);
void register_plan(CLI::App& app);
void register_serve(CLI::App& app);
void register_bench(CLI::App& app);
void register_loadgen(CLI::App& app);
void register_chat(CLI::App& app);
void register_perplexity(CLI::App& app);
void register_convert(CLI::App& app);
void register_video(CLI::App& app);
void register_video_eval(CLI::App& app);
void register_text_encode(CLI::App& app);
void register_vae(CLI::App& app);
void register_gguf_set(CLI::App& app);
void register_watermark(CLI::App& app);
void register_audit(CLI::App& app);

}  // namespace frugal::cli
