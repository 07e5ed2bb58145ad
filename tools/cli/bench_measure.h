// What `frugal bench` measures on one model (tools layer): the fast-vs-reference check run before
// any timing, the pp/tg timings, and the bytes and FLOPs each timed token costs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/expected.h"
#include "engine/session.h"
#include "model/model.h"

namespace frugal::cli {

// Result of comparing MatmulPath::kFast logits with MatmulPath::kReference on a short prompt.
struct ValidationResult {
  int64_t n_tokens = 0;
  double min_cosine = 1;        // worst position
  double max_abs_diff = 0;
  int64_t top1_checked = 0;     // positions whose reference top-1 margin is clear
  int64_t top1_mismatches = 0;
  int64_t moe_routes = 0;            // MoE models: (layer, token) routes the reference path replayed
  int64_t moe_routes_differing = 0;  // ... where its own top-k would have been other experts
  double moe_max_mass_gap = 0;       // ... by at most this much router probability
};

inline constexpr double kMinValidationCosine = 0.999;
// A route the two paths disagree on is a near-tie when the reference path's own top-k holds at most
// this much more router probability than the fast path's choice; more means the router's arithmetic differs.
inline constexpr double kMaxRouteMassGap = 0.02;

// Runs n_tokens random ids (fixed seed) through both paths in fresh sessions and compares every
// position; on MoE models the reference path replays the fast path's expert choices. inject_error corrupts the fast logits first (to test that the check fails loudly).
Expected<ValidationResult> compare_fast_with_reference(const Model& model, int threads, int64_t n_tokens,
                                                       bool inject_error);
// kInternal naming the figures when the result is below kMinValidationCosine or a clear top-1 differs.
Status check_validation(const ValidationResult& result);

// One pp or tg test, timed a repetition at a time so that several tests' repetitions can be
// interleaved (`frugal bench --interleave`): a slow spell of a shared machine then falls on every
// test alike instead of on whichever test happened to be running.
class RepetitionTimer {
 public:
  // pp when n_prompt > 0 (a fresh Session per repetition); else tg n_gen steps after a
  // (depth + 1)-token context, prefilled here once, untimed.
  static Expected<RepetitionTimer> create(const Model& model, int threads, int64_t n_prompt, int64_t n_gen,
                                          int64_t depth);
  // Tokens per second of one repetition; a warm-up tg repetition runs only a few steps.
  Expected<double> run(bool warmup);

 private:
  const Model* model_ = nullptr;
  int threads_ = 1;
  int64_t n_prompt_ = 0, n_gen_ = 0, depth_ = 0;
  std::vector<int32_t> ids_;
  std::unique_ptr<Session> session_;  // tg: the context, truncated back to it per repetition
};

// One untimed warm-up, then tokens per second of each of `repetitions` runs.
Expected<std::vector<double>> time_repetitions(RepetitionTimer& timer, int repetitions);

// Tokens per second of each repetition, after one untimed warm-up.
// pp: one forward over n_prompt random ids in a fresh Session.
Expected<std::vector<double>> time_prompt(const Model& model, int threads, int64_t n_prompt, int repetitions);
// tg: n_gen single-token steps after a (depth + 1)-token context (llama-bench's tg and -d): the
// depth is prefilled once, untimed, and each repetition truncates back to it.
Expected<std::vector<double>> time_generation(const Model& model, int threads, int64_t n_gen, int64_t depth,
                                              int repetitions);

// Bytes read and FLOPs done per timed token, averaged over the test.
struct TokenCost {
  double bytes_per_token = 0;   // weights (matrices + one embedding row) + KV cache reads
  double flops_per_token = 0;   // 2 per matmul weight + attention (QK^T and AV)
};
TokenCost prompt_token_cost(const Model& model, int64_t n_prompt);
TokenCost generation_token_cost(const Model& model, int64_t n_gen, int64_t depth);
// Mean KV positions a tg step attends over: step s (1..n_gen) runs at position depth + s and sees
// depth + s + 1 positions, so the mean is depth + 1 + (n_gen + 1) / 2 (what calibration records).
double generation_mean_context(int64_t n_gen, int64_t depth);

// "q4_k_m", "q8_0", "f16", ... from general.file_type, else the FFN weights' dtype (lower case).
std::string model_weight_type(const Model& model);

}  // namespace frugal::cli
