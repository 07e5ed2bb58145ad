// Live per-tier cost and latency estimates for the router (server layer), fed by the live cost
// meter: every finished request's Usage (cost_usd, computed by the engine's CostMeter at the
// configured price per hour) and its wall time.
//
// NOTE (the estimates):
//   usd_per_million_tokens = sum(cost_usd) / sum(prompt + completion tokens) x 1e6 over the last
//     `window_requests` finished requests: the blended price the client pays per token.
//   ms_per_output_token    = sum(arrival -> last token) / sum(completion tokens) over the same window:
//     what a client waits per generated token (queueing and prefill included).
// Before the first request a prior stands in, from the bytes a decoded token reads (the weights):
//   seconds per token = weight_bytes / kPriorBytesPerSecond; $/Mtoken = that x price / 3600 x 1e6.
// It only has to order the tiers until traffic arrives; live numbers replace it.
// Threading contract: record() and the getters are thread-safe (any HTTP thread).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>

#include "engine/request.h"

namespace frugal {

// Effective memory bandwidth the prior assumes for decoding (a modest CPU: ~10 GB/s).
inline constexpr double kPriorBytesPerSecond = 10e9;

struct TierPrior {
  double usd_per_million_tokens = 0;
  double ms_per_output_token = 0;
};

// The prior of a model whose decoded token reads `weight_bytes`, at `usd_per_hour`.
TierPrior tier_prior(int64_t weight_bytes, double usd_per_hour);

class TierStats {
 public:
  explicit TierStats(TierPrior prior, size_t window_requests = 32);

  // One finished request (all its choices): its usage and arrival -> last event seconds.
  void record(const Usage& usage, double e2e_seconds);

  double usd_per_million_tokens() const;
  double ms_per_output_token() const;
  int64_t num_recorded() const;

 private:
  struct Sample {
    double cost_usd = 0;
    int64_t num_tokens = 0;
    int64_t num_output_tokens = 0;
    double e2e_seconds = 0;
  };

  TierPrior prior_;
  size_t window_requests_;
  mutable std::mutex mutex_;  // guards everything below
  std::deque<Sample> samples_;
  int64_t num_recorded_ = 0;
};

}  // namespace frugal
