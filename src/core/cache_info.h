// The last-level cache's size, from sysfs or (failing that) cpuid via sysconf (core layer).
// Used to size bandwidth-probe arrays well past the caches: a probe whose arrays fit in the LLC
// measures the cache, not DRAM.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/expected.h"

namespace frugal {

// A sysfs cache "size" file's text ("491520K\n", "32M", "1024") -> bytes.
Expected<int64_t> parse_cache_size(std::string_view text);

struct CacheInfo {
  int64_t llc_bytes = 0;  // 0 when unknown
  int level = 0;          // 3 for an L3
  std::string source;     // "sysfs", "sysconf", or "unknown"
};

// The highest-level data or unified cache of cpu0.
CacheInfo last_level_cache();

}  // namespace frugal
