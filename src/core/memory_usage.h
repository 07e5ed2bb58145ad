// Resident memory of this process, from /proc/self/status (core layer): what `frugal video` reports
// as peak memory, per stage and for the whole run; and the machine's available memory.
#pragma once

#include <cstdint>

namespace frugal {

// VmRSS and VmHWM in bytes; 0 when /proc is unavailable.
int64_t current_rss_bytes();
int64_t peak_rss_bytes();
// MemAvailable from /proc/meminfo in bytes (what can be allocated without swapping); 0 when unknown.
int64_t available_memory_bytes();
// Resets the peak (VmHWM) to the current RSS (writes "5" to /proc/self/clear_refs), so a stage's peak
// can be measured on its own. Returns false when the kernel refuses.
bool reset_peak_rss();

}  // namespace frugal
