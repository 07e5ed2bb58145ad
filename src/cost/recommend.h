// Recommendation: search accelerators x device count x weight type x batch for the lowest cost
// per million output tokens that meets a latency SLO (cost layer). Only weight types an
// accelerator's catalogue entry lists (Accelerator::can_run) are tried. Every configuration is
// evaluated (each costs a few hundred nanoseconds), so the answer is exact over the grid.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "cost/catalogue.h"
#include "cost/llm_serving.h"
#include "cost/llm_shape.h"
#include "cost/weight_type.h"

namespace frugal {

struct RecommendQuery {
  LlmShape shape;
  std::vector<Accelerator> hardware;
  std::vector<int> counts = {1, 2, 4, 8};
  std::vector<WeightType> weights;
  std::vector<int64_t> batches = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  Workload workload;
  double max_tpot_s = 0.05;       // max time per output token (0 = no limit)
  double max_ttft_s = 2.0;        // max time to first token (0 = no limit)
  double kv_bytes_per_element = 2.0;
  std::optional<Efficiency> efficiency;  // override; else default_efficiency(kind)
  double usd_per_hour_override = 0;      // per device; else the catalogue midpoint
};

struct Candidate {
  std::string hardware;
  int count = 1;
  std::string weights;
  int64_t batch = 1;
  bool fits = false;
  bool meets_slo = false;
  double tpot_s = 0;
  double ttft_s = 0;               // prefill of one prompt + half a decode step of waiting
  double output_tokens_per_s = 0;  // all sequences
  double usd_per_hour = 0;         // all devices
  double usd_per_million_output_tokens = 0;
};

struct Recommendation {
  std::optional<Candidate> best;
  std::vector<Candidate> ranked;  // feasible candidates, cheapest first
  int64_t evaluated = 0;          // configurations scored
  int64_t skipped = 0;            // (hardware, count) pairs that cannot be planned (no price, no TP)
  int64_t unsupported = 0;        // (hardware, count, weights) the catalogue entry says it cannot run
};

// Scores one configuration (fits, SLO, cost); the building block of recommend().
Candidate score_candidate(const LlmRoofline& model, const RecommendQuery& query, int64_t batch, double usd_per_hour);

Recommendation recommend(const RecommendQuery& query);

}  // namespace frugal
