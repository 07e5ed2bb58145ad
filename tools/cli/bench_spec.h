// `frugal bench --draft MODEL` / `--spec ngram`: decode throughput with and without speculative
// decoding, measured side by side in one run (tools layer). Each repetition runs the same requests
// (greedy, fixed length, `concurrency` at once) through the batched engine three ways — speculation
// off, always on, and load-aware — interleaved so machine noise hits all three alike; prints
// min/median/max generated tokens/s, the speed-up over "off", the acceptance rate and the mean
// tokens per verification. `--spec all` (needs --draft and --medusa) instead compares off / draft /
// n-gram / Medusa, each always on, interleaved the same way.
#pragma once

#include <string>
#include <vector>

#include "spec_flags.h"

namespace frugal::cli {

struct SpecBenchArgs {
  std::string model_path;
  SpecFlags spec;
  std::vector<int64_t> n_gen = {128};
  std::vector<int> concurrency = {1};
  int threads = 0;
  int repetitions = 3;
  std::string prompt;  // "" = a built-in English sentence (varied per request)
  bool json = false;
};

int run_spec_bench(const SpecBenchArgs& args);

}  // namespace frugal::cli
