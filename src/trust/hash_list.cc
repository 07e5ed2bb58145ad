#include "trust/hash_list.h"

#include <fstream>
#include <sstream>

namespace frugal::trust {
namespace {

std::string trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

}  // namespace

Expected<PdqHashList> PdqHashList::load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return not_found("cannot open the PDQ hash list " + path);
  std::ostringstream text;
  text << file.rdbuf();
  return parse(text.str(), path);
}

Expected<PdqHashList> PdqHashList::parse(const std::string& text, const std::string& source_name) {
  PdqHashList list;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t end = line.find_first_of(", \t");
    auto hash = parse_pdq_hex(line.substr(0, end));
    if (!hash) {
      return invalid_argument(source_name + ":" + std::to_string(number) + ": " + hash.error().message());
    }
    std::string label = end == std::string::npos ? "" : trim(line.substr(end + 1));
    list.hashes_.push_back(*hash);
    list.labels_.push_back(label.empty() ? "line " + std::to_string(number) : label);
  }
  if (list.hashes_.empty()) return invalid_argument(source_name + ": the PDQ hash list holds no hashes");
  return list;
}

std::optional<HashListMatch> PdqHashList::nearest(const PdqHash& hash, int max_distance) const {
  std::optional<HashListMatch> best;
  for (size_t i = 0; i < hashes_.size(); ++i) {
    const int distance = hamming_distance(hash, hashes_[i]);
    if (distance <= max_distance && (!best || distance < best->distance)) best = HashListMatch{labels_[i], distance};
  }
  return best;
}

}  // namespace frugal::trust
