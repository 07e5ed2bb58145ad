// TierEstimates: what a tier's video costs, learned from the jobs that completed (jobs layer).
// An exponentially weighted mean (weight kNewWeight for the newest job) of the seconds from claim to
// completion and the cost, per tier: the submit answer's prediction and the queue's ETA.
// Threading contract: every method is safe to call from any thread.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace frugal::jobs {

struct TierEstimate {
  double seconds = 0;   // claim → completed
  double cost_usd = 0;
  int64_t samples = 0;
};

class TierEstimates {
 public:
  static constexpr double kNewWeight = 0.3;  // recent runs dominate: load on the box changes

  void record(const std::string& tier, double seconds, double cost_usd) {
    std::lock_guard<std::mutex> lock(mutex_);
    TierEstimate& e = estimates_[tier];
    const double w = e.samples == 0 ? 1.0 : kNewWeight;
    e.seconds = (1 - w) * e.seconds + w * seconds;
    e.cost_usd = (1 - w) * e.cost_usd + w * cost_usd;
    ++e.samples;
  }
  std::optional<TierEstimate> get(const std::string& tier) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = estimates_.find(tier);
    if (it == estimates_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, TierEstimate> estimates_;
};

}  // namespace frugal::jobs
