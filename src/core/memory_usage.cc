#include "core/memory_usage.h"

#include <cstdio>
#include <cstring>

namespace frugal {
namespace {

// A "Field:   123 kB" line of a /proc file, in bytes; 0 when absent.
int64_t kib_field_bytes(const char* path, const char* field) {
  std::FILE* f = std::fopen(path, "r");
  if (f == nullptr) return 0;
  char line[256];
  int64_t kib = 0;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      long long v = 0;
      if (std::sscanf(line + n + 1, "%lld", &v) == 1) kib = v;
      break;
    }
  }
  std::fclose(f);
  return kib * 1024;
}

}  // namespace

int64_t current_rss_bytes() { return kib_field_bytes("/proc/self/status", "VmRSS"); }
int64_t peak_rss_bytes() { return kib_field_bytes("/proc/self/status", "VmHWM"); }
int64_t available_memory_bytes() { return kib_field_bytes("/proc/meminfo", "MemAvailable"); }

bool reset_peak_rss() {
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

}  // namespace frugal
