#include "sampling/stop_strings.h"

#include <algorithm>
#include <utility>

namespace frugal {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
  // Longest first: among stops ending at the same offset the first one checked (the longest) wins.
  std::stable_sort(stops_.begin(), stops_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

size_t StopStringMatcher::find_first_completed_stop() {
  const std::string_view text(pending_);
  for (size_t end = 1; end <= text.size(); ++end) {
    for (const std::string& stop : stops_) {
      if (stop.size() <= end && text.substr(end - stop.size(), stop.size()) == stop) {
        matched_ = stop;
        return end - stop.size();
      }
    }
  }
  return std::string::npos;
}

size_t StopStringMatcher::held_back_length() const {
  const std::string_view text(pending_);
  size_t longest = 0;
  for (const std::string& stop : stops_) {
    const size_t max_len = std::min(text.size(), stop.size() - 1);
    for (size_t len = max_len; len > longest; --len) {
      if (text.substr(text.size() - len) == std::string_view(stop).substr(0, len)) {
        longest = len;
        break;
      }
    }
  }
  return longest;
}

std::string StopStringMatcher::push(std::string_view text) {
  if (stopped_) return {};
  pending_.append(text);
  if (stops_.empty()) return std::exchange(pending_, {});
  const size_t stop_offset = find_first_completed_stop();
  if (stop_offset != std::string::npos) {
    stopped_ = true;
    std::string emitted = pending_.substr(0, stop_offset);
    pending_.clear();
    return emitted;
  }
  const size_t n_held = held_back_length();
  std::string emitted = pending_.substr(0, pending_.size() - n_held);
  pending_.erase(0, pending_.size() - n_held);
  return emitted;
}

std::string StopStringMatcher::flush() {
  if (stopped_) return {};
  return std::exchange(pending_, {});
}

}  // namespace frugal
