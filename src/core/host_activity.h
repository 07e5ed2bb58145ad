// HostActivity: is this machine quiet enough for a bandwidth measurement to mean anything (core layer).
// Central idea: a measurement is bracketed by two /proc/stat snapshots; the CPU time every core spent
// busy over that window, minus what this process used, is the share other processes took, and the
// steal column is what the hypervisor took. With the 1-minute load average read before the window
// (load vs online cores), these decide a quiet/busy verdict with the reasons in words. The parsers
// take the files' text, so tests feed them fixed /proc-format strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/expected.h"

namespace frugal {

// The aggregate "cpu" line of /proc/stat, in USER_HZ ticks (guest time is already inside user/nice).
struct CpuTicks {
  int64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  int64_t busy() const { return user + nice + system + irq + softirq; }  // excludes idle, iowait, steal
  int64_t total() const { return busy() + idle + iowait + steal; }
};

struct ProcStat {
  CpuTicks all;       // the "cpu" line
  int online_cpus = 0;  // number of "cpuN" lines
};

// /proc/loadavg text ("0.52 0.58 0.59 1/467 12345") -> the 1-minute load average.
Expected<double> parse_loadavg(std::string_view text);
// /proc/stat text -> the aggregate line and the per-CPU line count. kInvalidArgument when the
// "cpu" line is missing or has fewer than 8 numeric columns (steal is the 8th).
Expected<ProcStat> parse_proc_stat(std::string_view text);

// What other work did while we measured: shares of the whole machine's CPU time over the window.
struct HostActivity {
  double load1 = 0;            // 1-minute load average before the window
  int cores = 0;               // online CPUs
  double window_s = 0;         // wall seconds between the snapshots
  double steal_share = 0;      // steal ticks / all ticks, in [0, 1]
  double other_cpu_share = 0;  // (busy ticks - this process's CPU) / all ticks, in [0, 1]
};

// Shares from two snapshots and this process's CPU seconds spent between them. A window with no
// ticks (too short to see) gives zero shares.
HostActivity host_activity_between(const ProcStat& before, const ProcStat& after, double load1, double own_cpu_s,
                                   double window_s, int64_t ticks_per_s);

// Thresholds of the verdict. Defaults: steal above 2 %, other processes above 10 % of the machine
// over the window; when the window is shorter than min_share_window_s (too few ticks to measure
// shares), the 1-minute load above half the cores instead (0.8 counts as quiet on 2 cores, the
// issue's quiet host).
struct QuietThresholds {
  double min_share_window_s = 0.5;
  double max_load_per_core = 0.5;
  double max_steal_share = 0.02;
  double max_other_cpu_share = 0.10;
};

struct HostVerdict {
  bool quiet = true;
  std::vector<std::string> reasons;  // empty when quiet; e.g. "load 5.2 on 2 cores"
  std::string summary() const;       // "host busy: load 5.2 on 2 cores, steal 3 %" / "host quiet"
};

HostVerdict judge_host(const HostActivity& activity, const QuietThresholds& limits = {});

// Live sampling: reads /proc/loadavg and /proc/stat, and this process's CPU clock.
struct HostSnapshot {
  double load1 = 0;
  ProcStat stat;
  double own_cpu_s = 0;   // CLOCK_PROCESS_CPUTIME_ID
  double wall_s = 0;      // CLOCK_MONOTONIC
};
// kUnavailable when /proc cannot be read (not Linux, no procfs).
Expected<HostSnapshot> take_host_snapshot();
// load1 from `before`; the shares over [before, after].
HostActivity host_activity_between(const HostSnapshot& before, const HostSnapshot& after);

}  // namespace frugal
