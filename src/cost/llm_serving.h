// Serving estimates on top of the roofline: latency and throughput under a request rate, the
// largest batch under a time-per-output-token SLO, and offline (max-load) throughput (cost layer).
#pragma once

#include <string>

#include "cost/llm_roofline.h"

namespace frugal {

struct Workload {
  int64_t prompt_tokens = 512;
  int64_t output_tokens = 256;
};

struct ServingPoint {
  bool feasible = false;
  std::string reason;            // why not, when infeasible
  int64_t batch = 0;             // sequences decoding concurrently (steady state)
  double tpot_s = 0;             // time per output token
  double ttft_s = 0;             // time to first token
  double e2e_s = 0;              // request latency
  double output_tokens_per_s = 0;
  double prefill_busy_fraction = 0;
};

// Steady state at `rate_per_s` requests/s (Little's law: batch = rate x output_tokens x TPOT;
// prefills steal their share of time from decode steps). Infeasible when the deployment cannot
// keep up within the memory limit.
ServingPoint serve_at_rate(const LlmRoofline& model, const Workload& w, double rate_per_s);

// Largest batch whose TPOT (at context prompt + output) is <= max_tpot_s and that fits;
// 0 when none does.
int64_t max_batch_under_tpot(const LlmRoofline& model, const Workload& w, double max_tpot_s);

// Max-load throughput (output tokens/s over all devices) with `batch` concurrent requests:
// each cohort prefills its prompts, then decodes output_tokens steps at the mean context.
double offline_output_tokens_per_s(const LlmRoofline& model, const Workload& w, int64_t batch);

}  // namespace frugal
