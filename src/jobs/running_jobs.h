// RunningJobs: the jobs this process is generating right now, and their cancellation flags (jobs
// layer). DELETE of a running job sets its flag; the pipeline polls it between steps and frames.
// Threading contract: every method is safe to call from any thread.
#pragma once

#include <mutex>
#include <set>
#include <string>

namespace frugal::jobs {

class RunningJobs {
 public:
  void begin(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    running_.insert(id);
    cancelled_.erase(id);
  }
  void end(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    running_.erase(id);
    cancelled_.erase(id);
  }
  // True when the job was running here (and is now asked to stop).
  bool cancel(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (running_.count(id) == 0) return false;
    cancelled_.insert(id);
    return true;
  }
  bool cancelled(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cancelled_.count(id) != 0;
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::string> running_;
  std::set<std::string> cancelled_;
};

}  // namespace frugal::jobs
