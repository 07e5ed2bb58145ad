// StopStringMatcher: streams decoded text and cuts it at the first stop string (sampling layer).
// Text that might be the start of a stop string is held back until it is known not to be.
// Threading: one matcher per sequence; not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace frugal {

class StopStringMatcher {
 public:
  // Empty strings in `stops` are ignored; an empty list never stops and never holds text back.
  explicit StopStringMatcher(std::vector<std::string> stops);

  // Feeds newly decoded text; returns the text that is safe to emit now (any suffix that is a prefix
  // of a stop string is held back). When a stop string completes, stopped() becomes true, the
  // returned text ends right before it, and later pushes return "".
  // The stop that wins is the one that completes first in the text (smallest end offset; on a tie the
  // longest), so the result does not depend on how the text is split into pushes.
  std::string push(std::string_view text);

  // End of generation: returns the held-back text ("" once stopped).
  std::string flush();

  bool stopped() const { return stopped_; }
  // The stop string that matched ("" while not stopped).
  const std::string& matched() const { return matched_; }

 private:
  // Offset in pending_ where the earliest-completing stop starts, or npos; sets matched_.
  size_t find_first_completed_stop();
  // Length of the longest suffix of pending_ that is a proper prefix of some stop string.
  size_t held_back_length() const;

  std::vector<std::string> stops_;
  std::string pending_;  // text received but not yet emitted
  std::string matched_;
  bool stopped_ = false;
};

}  // namespace frugal
