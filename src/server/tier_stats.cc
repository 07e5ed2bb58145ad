#include "server/tier_stats.h"

#include "core/check.h"

namespace frugal {

TierPrior tier_prior(int64_t weight_bytes, double usd_per_hour) {
  const double seconds_per_token = static_cast<double>(weight_bytes) / kPriorBytesPerSecond;
  return TierPrior{.usd_per_million_tokens = seconds_per_token * usd_per_hour / 3600.0 * 1e6,
                   .ms_per_output_token = seconds_per_token * 1000.0};
}

TierStats::TierStats(TierPrior prior, size_t window_requests) : prior_(prior), window_requests_(window_requests) {
  CHECK(window_requests > 0, "TierStats: the window holds at least one request");
}

void TierStats::record(const Usage& usage, double e2e_seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  samples_.push_back(Sample{.cost_usd = usage.cost_usd,
                            .num_tokens = usage.prompt_tokens + usage.completion_tokens,
                            .num_output_tokens = usage.completion_tokens,
                            .e2e_seconds = e2e_seconds});
  while (samples_.size() > window_requests_) samples_.pop_front();
  ++num_recorded_;
}

double TierStats::usd_per_million_tokens() const {
  std::lock_guard<std::mutex> lock(mutex_);
  double cost_usd = 0;
  int64_t num_tokens = 0;
  for (const Sample& sample : samples_) {
    cost_usd += sample.cost_usd;
    num_tokens += sample.num_tokens;
  }
  return num_tokens > 0 ? cost_usd / static_cast<double>(num_tokens) * 1e6 : prior_.usd_per_million_tokens;
}

double TierStats::ms_per_output_token() const {
  std::lock_guard<std::mutex> lock(mutex_);
  double seconds = 0;
  int64_t num_output_tokens = 0;
  for (const Sample& sample : samples_) {
    seconds += sample.e2e_seconds;
    num_output_tokens += sample.num_output_tokens;
  }
  return num_output_tokens > 0 ? seconds / static_cast<double>(num_output_tokens) * 1000.0 : prior_.ms_per_output_token;
}

int64_t TierStats::num_recorded() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return num_recorded_;
}

}  // namespace frugal
