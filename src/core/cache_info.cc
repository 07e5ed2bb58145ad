#include "core/cache_info.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>

namespace frugal {
namespace {

bool read_line(const std::string& path, std::string& out) {
  std::ifstream in(path);
  return static_cast<bool>(std::getline(in, out));
}

}  // namespace

Expected<int64_t> parse_cache_size(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  int64_t scale = 1;
  if (!text.empty() && (text.back() == 'K' || text.back() == 'M' || text.back() == 'G')) {
    scale = text.back() == 'K' ? int64_t{1} << 10 : text.back() == 'M' ? int64_t{1} << 20 : int64_t{1} << 30;
    text.remove_suffix(1);
  }
  if (text.empty() || text.size() > 12) return invalid_argument("cache size: expected a number with K/M/G, got '" + std::string(text) + "'");
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return invalid_argument("cache size: expected a number with K/M/G, got '" + std::string(text) + "'");
    v = v * 10 + (c - '0');
  }
  return v * scale;
}

CacheInfo last_level_cache() {
  CacheInfo best;
  for (int index = 0; index < 16; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    std::string level_text, type, size_text;
    if (!read_line(dir + "level", level_text)) break;
    if (!read_line(dir + "type", type) || type == "Instruction" || !read_line(dir + "size", size_text)) continue;
    auto size = parse_cache_size(size_text);
    const int level = std::atoi(level_text.c_str());
    if (size && level >= best.level) best = CacheInfo{*size, level, "sysfs"};
  }
  if (best.llc_bytes > 0) return best;
#ifdef _SC_LEVEL3_CACHE_SIZE
  for (auto [name, level] : {std::pair{_SC_LEVEL3_CACHE_SIZE, 3}, std::pair{_SC_LEVEL2_CACHE_SIZE, 2}}) {
    const long v = ::sysconf(name);
    if (v > 0) return CacheInfo{v, level, "sysconf"};
  }
#endif
  return CacheInfo{0, 0, "unknown"};
}

}  // namespace frugal
