// CostMeter: the live cost meter of the serving engine (engine layer). Cost is a first-class
// number: every engine step's wall time (step start -> forward pass done) is metered as compute
// seconds and, at the configured price per hour, as US dollars.
//
// NOTE (the attribution rule): a step's time is split across the step's chunks in proportion to
// the tokens each chunk runs (chunk.num_new_tokens), and added to that chunk's Sequence. A
// request's cost is therefore its share of every step it took part in, and the per-request costs
// add up to the meter's total (up to rounding) for requests that finish. What is and is not charged:
//   - preempted and recomputed work is charged to the request that is recomputed: it is real cost;
//   - a cancelled or failed request's share is in the totals but reaches no Usage;
//   - time outside steps (idle, between steps) is charged to nobody: the meter measures the cost
//     of the work done, not of the rented hardware standing idle.
// The sliding window gives $ per million tokens over the last window_seconds: all processed tokens
// (prompt + recomputed + decode + verified proposals) and generated tokens (one per sampling chunk
// plus accepted speculative proposals).
//
// Threading contract: charge_step/record_step/refresh run on the engine thread only; totals(),
// window() and usd_for_seconds() are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "engine/scheduler.h"
#include "metrics/serving_metrics.h"

namespace frugal {

class CostMeter {
 public:
  using Clock = std::chrono::steady_clock;
  using NowFn = std::function<Clock::time_point()>;

  struct Options {
    double usd_per_hour = 0;      // 0: no price (cost stays 0; compute seconds are still metered)
    double window_seconds = 60;   // the sliding window of the $/Mtoken gauges; > 0
  };

  struct Totals {
    double compute_seconds = 0;
    double cost_usd = 0;
    int64_t num_tokens = 0;            // all processed tokens
    int64_t num_generated_tokens = 0;  // sampled tokens
  };

  struct WindowRates {
    double compute_seconds = 0;  // step seconds recorded within the window
    int64_t num_tokens = 0;
    int64_t num_generated_tokens = 0;
    double usd_per_million_tokens = 0;            // 0 when the window holds no tokens
    double usd_per_million_generated_tokens = 0;  // 0 when the window generated nothing
  };

  // `now` is injectable for tests. Preconditions (CHECKed): usd_per_hour >= 0, window_seconds > 0.
  explicit CostMeter(Options options, NowFn now = Clock::now);

  // Updates these metric families from now on (may be called once, before the first step).
  void attach_metrics(const ServingMetrics& metrics);

  // Meters one step: adds each chunk's share of step_seconds to its Sequence::compute_seconds and
  // records the step with one generated token per sampling chunk. Call before sampling, which may
  // finish a sequence and build its Usage.
  void charge_step(double step_seconds, const SchedulerOutput& out);
  // Tokens the last step generated beyond one per sampling chunk (accepted speculative proposals).
  void add_generated_tokens(int64_t count);
  // Records one step's time and tokens (the totals, the window and the metrics).
  void record_step(double step_seconds, int64_t num_tokens, int64_t num_generated_tokens);
  // Drops steps older than the window and refreshes the gauges (e.g. when the engine idles).
  void refresh();

  double usd_per_hour() const { return options_.usd_per_hour; }
  double usd_for_seconds(double compute_seconds) const { return compute_seconds * options_.usd_per_hour / 3600.0; }
  Totals totals() const;
  WindowRates window() const;  // as of now()

 private:
  struct StepRecord {
    Clock::time_point at;
    double seconds = 0;
    int64_t num_tokens = 0;
    int64_t num_generated_tokens = 0;
  };

  void evict_locked(Clock::time_point now);
  WindowRates window_locked() const;
  void publish_window_locked();

  Options options_;
  NowFn now_;
  const ServingMetrics* metrics_ = nullptr;

  mutable std::mutex mutex_;  // guards everything below
  Totals totals_;
  std::deque<StepRecord> steps_;  // oldest first, all within the window after evict_locked
  double window_seconds_sum_ = 0;
  int64_t window_tokens_ = 0;
  int64_t window_generated_tokens_ = 0;
};

}  // namespace frugal
