#include "cli_common.h"

#include <cstdio>
#include <cstring>

#include "quant/quantize.h"
#include "quant/weighted_quantize.h"

namespace frugal::cli {

Expected<LoadedModel> load_model(const std::string& path) {
  auto model = Model::load(path);
  if (!model) return model.error();
  auto tokenizer = Tokenizer::from_gguf((*model)->file());
  if (!tokenizer) return tokenizer.error();
  LoadedModel loaded;
  loaded.model = std::move(*model);
  loaded.tokenizer = std::make_unique<Tokenizer>(std::move(*tokenizer));
  return loaded;
}

SamplingFlagOptions add_sampling_flags(CLI::App& app, SamplingParams& p) {
  SamplingFlagOptions flags;
  const char* model_note = "; default: the model's general.sampling.* value if it has one";
  flags.temp = app.add_option("--temp", p.temperature, std::string("Sampling temperature (0 = greedy)") + model_note)
                   ->capture_default_str();
  flags.top_k = app.add_option("--top-k", p.top_k, std::string("Keep the k most likely tokens (0 = off)") + model_note)
                    ->capture_default_str();
  flags.top_p = app.add_option("--top-p", p.top_p, std::string("Nucleus sampling mass (1 = off)") + model_note)
                    ->capture_default_str();
  flags.min_p = app.add_option("--min-p", p.min_p,
                               std::string("Drop tokens below min-p x the top probability (0 = off)") + model_note)
                    ->capture_default_str();
  flags.repeat_penalty =
      app.add_option("--repeat-penalty", p.repeat_penalty, std::string("Penalty for repeated tokens (1 = off)") + model_note)
          ->capture_default_str();
  flags.repeat_last_n = app.add_option("--repeat-last-n", p.repeat_last_n,
                                       std::string("Tokens of history the penalties look at (-1 = all)") + model_note)
                            ->capture_default_str();
  app.add_option("--presence-penalty", p.presence_penalty, "OpenAI presence penalty")->capture_default_str();
  app.add_option("--frequency-penalty", p.frequency_penalty, "OpenAI frequency penalty")->capture_default_str();
  app.add_option("--seed", p.seed, "RNG seed (same seed and inputs give the same output)");
  return flags;
}

SamplingGiven sampling_given(const SamplingFlagOptions& flags) {
  auto given = [](const CLI::Option* option) { return option != nullptr && option->count() > 0; };
  SamplingGiven out;
  out.temperature = given(flags.temp);
  out.top_k = given(flags.top_k);
  out.top_p = given(flags.top_p);
  out.min_p = given(flags.min_p);
  out.repeat_penalty = given(flags.repeat_penalty);
  out.repeat_last_n = given(flags.repeat_last_n);
  return out;
}

Expected<std::vector<uint8_t>> parallel_quantize(ThreadPool& pool, DType dtype, const float* src, int64_t n_rows,
                                                 int64_t row_len, const float* importance) {
  const int64_t row_bytes = dtype_row_bytes(dtype, row_len);
  std::vector<uint8_t> out(static_cast<size_t>(row_bytes * n_rows));
  std::vector<Status> errors(static_cast<size_t>(pool.num_threads()));
  pool.run([&](int thread_idx, int num_threads) {
    const int64_t chunk = (n_rows + num_threads - 1) / num_threads;
    const int64_t begin = std::min(n_rows, chunk * thread_idx), end = std::min(n_rows, begin + chunk);
    if (begin >= end) return;
    auto part = quantize_rows_weighted(dtype, src + begin * row_len, end - begin, row_len, importance);
    if (!part) {
      errors[static_cast<size_t>(thread_idx)] = part.error();
      return;
    }
    std::memcpy(out.data() + begin * row_bytes, part->data(), part->size());
  });
  for (const Status& e : errors) {
    if (!e.is_ok()) return e;
  }
  return out;
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 4) {
    bytes /= 1024.0;
    ++unit;
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), unit == 0 ? "%.0f %s" : "%.2f %s", bytes, units[unit]);
  return buf;
}

int report_error(const Status& status) {
  std::fprintf(stderr, "frugal: error: %s\n", status.to_string().c_str());
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
      return 2;
    default:
      return 1;
  }
}


sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return stop_signals;
}

}  // namespace frugal::cli
