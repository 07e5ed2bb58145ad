// PdqHashList: the operator's list of PDQ hashes of known content to hold for review (trust layer).
// File format, one entry per line:
//   <64 hex digits>[, or whitespace <label>]      e.g. the reference tool's "hash,quality,file" lines
//   # comment, blank lines ignored
// Anything else is a start-up error naming the file and line; a file with no hashes is one too
// (an empty list that silently matches nothing is the failure this guards against).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/expected.h"
#include "trust/pdq.h"

namespace frugal::trust {

struct HashListMatch {
  std::string label;  // the entry's label, or "line N" when it has none
  int distance = 0;   // Hamming distance, bits
};

class PdqHashList {
 public:
  // kNotFound when the file cannot be read; kInvalidArgument "PATH:LINE: why" when malformed.
  static Expected<PdqHashList> load(const std::string& path);
  static Expected<PdqHashList> parse(const std::string& text, const std::string& source_name);

  // The nearest entry within `max_distance` bits (inclusive); nullopt when none.
  std::optional<HashListMatch> nearest(const PdqHash& hash, int max_distance) const;
  size_t size() const { return hashes_.size(); }

 private:
  std::vector<PdqHash> hashes_;
  std::vector<std::string> labels_;
};

}  // namespace frugal::trust
