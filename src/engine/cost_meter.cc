#include "engine/cost_meter.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace frugal {
namespace {

constexpr double kTokensPerMillion = 1e6;

double usd_per_million(double usd, int64_t num_tokens) {
  return num_tokens > 0 ? usd / static_cast<double>(num_tokens) * kTokensPerMillion : 0.0;
}

}  // namespace

CostMeter::CostMeter(Options options, NowFn now) : options_(options), now_(std::move(now)) {
  CHECK(std::isfinite(options_.usd_per_hour) && options_.usd_per_hour >= 0, "CostMeter: usd_per_hour must be >= 0");
  CHECK(std::isfinite(options_.window_seconds) && options_.window_seconds > 0, "CostMeter: window_seconds must be > 0");
}

void CostMeter::attach_metrics(const ServingMetrics& metrics) {
  metrics_ = &metrics;
  metrics_->price_usd_per_hour->with().set(options_.usd_per_hour);
}

void CostMeter::charge_step(double step_seconds, const SchedulerOutput& out) {
  int64_t num_tokens = 0;
  int64_t num_generated_tokens = 0;
  for (const ScheduledChunk& chunk : out.chunks) {
    num_tokens += chunk.num_new_tokens;
    if (chunk.wants_logits) ++num_generated_tokens;
  }
  if (num_tokens > 0) {
    for (const ScheduledChunk& chunk : out.chunks) {
      chunk.seq->compute_seconds += step_seconds * chunk.num_new_tokens / static_cast<double>(num_tokens);
    }
  }
  record_step(step_seconds, num_tokens, num_generated_tokens);
}

void CostMeter::add_generated_tokens(int64_t count) {
  if (count <= 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  totals_.num_generated_tokens += count;
  if (!steps_.empty()) steps_.back().num_generated_tokens += count;
  window_generated_tokens_ += count;
  publish_window_locked();
}

void CostMeter::record_step(double step_seconds, int64_t num_tokens, int64_t num_generated_tokens) {
  const Clock::time_point now = now_();
  std::lock_guard<std::mutex> lock(mutex_);
  totals_.compute_seconds += step_seconds;
  totals_.cost_usd += usd_for_seconds(step_seconds);
  totals_.num_tokens += num_tokens;
  totals_.num_generated_tokens += num_generated_tokens;
  steps_.push_back(StepRecord{now, step_seconds, num_tokens, num_generated_tokens});
  window_seconds_sum_ += step_seconds;
  window_tokens_ += num_tokens;
  window_generated_tokens_ += num_generated_tokens;
  evict_locked(now);
  if (metrics_ != nullptr) {
    metrics_->compute_seconds->with().inc(step_seconds);
    metrics_->cost_usd->with().inc(usd_for_seconds(step_seconds));
  }
  publish_window_locked();
}

void CostMeter::refresh() {
  const Clock::time_point now = now_();
  std::lock_guard<std::mutex> lock(mutex_);
  evict_locked(now);
  publish_window_locked();
}

CostMeter::Totals CostMeter::totals() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return totals_;
}

CostMeter::WindowRates CostMeter::window() const {
  const Clock::time_point cutoff = now_() - std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(options_.window_seconds));
  std::lock_guard<std::mutex> lock(mutex_);
  // The running sums, less the (few) steps that have left the window since the last eviction.
  WindowRates rates = window_locked();
  for (const StepRecord& step : steps_) {
    if (step.at >= cutoff) break;
    rates.compute_seconds -= step.seconds;
    rates.num_tokens -= step.num_tokens;
    rates.num_generated_tokens -= step.num_generated_tokens;
  }
  rates.compute_seconds = std::max(0.0, rates.compute_seconds);
  const double usd = usd_for_seconds(rates.compute_seconds);
  rates.usd_per_million_tokens = usd_per_million(usd, rates.num_tokens);
  rates.usd_per_million_generated_tokens = usd_per_million(usd, rates.num_generated_tokens);
  return rates;
}

void CostMeter::evict_locked(Clock::time_point now) {
  const Clock::time_point cutoff =
      now - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.window_seconds));
  while (!steps_.empty() && steps_.front().at < cutoff) {
    window_seconds_sum_ -= steps_.front().seconds;
    window_tokens_ -= steps_.front().num_tokens;
    window_generated_tokens_ -= steps_.front().num_generated_tokens;
    steps_.pop_front();
  }
  if (steps_.empty()) window_seconds_sum_ = 0;  // no drift from repeated subtraction survives an empty window
}

CostMeter::WindowRates CostMeter::window_locked() const {
  WindowRates rates;
  rates.compute_seconds = std::max(0.0, window_seconds_sum_);
  rates.num_tokens = window_tokens_;
  rates.num_generated_tokens = window_generated_tokens_;
  const double usd = usd_for_seconds(rates.compute_seconds);
  rates.usd_per_million_tokens = usd_per_million(usd, rates.num_tokens);
  rates.usd_per_million_generated_tokens = usd_per_million(usd, rates.num_generated_tokens);
  return rates;
}

void CostMeter::publish_window_locked() {
  if (metrics_ == nullptr) return;
  const WindowRates rates = window_locked();
  metrics_->cost_per_million_tokens->with({kCostTokensAll}).set(rates.usd_per_million_tokens);
  metrics_->cost_per_million_tokens->with({kCostTokensGenerated}).set(rates.usd_per_million_generated_tokens);
}

}  // namespace frugal
