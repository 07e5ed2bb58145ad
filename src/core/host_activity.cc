#include "core/host_activity.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace frugal {
namespace {

// Splits on spaces/tabs; no empty tokens.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool parse_double(std::string_view s, double& out) {
  if (s.empty() || s.size() > 32) return false;
  const std::string copy(s);
  char* end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && out >= 0;
}

double clamp01(double v) { return std::clamp(v, 0.0, 1.0); }

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

Expected<std::string> read_file(const char* path) {
  std::ifstream in(path);
  if (!in) return unavailable(std::string("cannot read ") + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double clock_seconds(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

Expected<double> parse_loadavg(std::string_view text) {
  const std::vector<std::string_view> f = fields(text.substr(0, text.find('\n')));
  double load1 = 0;
  if (f.empty() || !parse_double(f[0], load1)) {
    return invalid_argument("/proc/loadavg: expected a load average first, got '" + std::string(text.substr(0, 40)) + "'");
  }
  return load1;
}

Expected<ProcStat> parse_proc_stat(std::string_view text) {
  ProcStat out;
  bool have_total = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::vector<std::string_view> f = fields(text.substr(pos, end - pos));
    pos = end + 1;
    if (f.empty() || f[0].substr(0, 3) != "cpu") continue;
    if (f[0] != "cpu") {
      int64_t index = 0;
      if (parse_int(f[0].substr(3), index)) ++out.online_cpus;
      continue;
    }
    if (f.size() < 9) return invalid_argument("/proc/stat: the 'cpu' line has fewer than 8 columns (no steal time)");
    int64_t v[8];
    for (int i = 0; i < 8; ++i) {
      if (!parse_int(f[static_cast<size_t>(i) + 1], v[i])) {
        return invalid_argument("/proc/stat: non-numeric column '" + std::string(f[static_cast<size_t>(i) + 1]) +
                                "' in the 'cpu' line");
      }
    }
    out.all = CpuTicks{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    have_total = true;
  }
  if (!have_total) return invalid_argument("/proc/stat: no aggregate 'cpu' line");
  if (out.online_cpus == 0) return invalid_argument("/proc/stat: no per-CPU 'cpuN' lines");
  return out;
}

HostActivity host_activity_between(const ProcStat& before, const ProcStat& after, double load1, double own_cpu_s,
                                   double window_s, int64_t ticks_per_s) {
  HostActivity a;
  a.load1 = load1;
  a.cores = after.online_cpus;
  a.window_s = window_s;
  const double total = static_cast<double>(after.all.total() - before.all.total());
  if (total <= 0 || ticks_per_s <= 0) return a;
  const double steal = static_cast<double>(after.all.steal - before.all.steal);
  const double busy = static_cast<double>(after.all.busy() - before.all.busy());
  const double own_ticks = own_cpu_s * static_cast<double>(ticks_per_s);
  a.steal_share = clamp01(steal / total);
  a.other_cpu_share = clamp01((busy - own_ticks) / total);
  return a;
}

std::string HostVerdict::summary() const {
  if (quiet) return "host quiet";
  std::string s = "host busy: ";
  for (size_t i = 0; i < reasons.size(); ++i) s += (i ? ", " : "") + reasons[i];
  return s;
}

HostVerdict judge_host(const HostActivity& a, const QuietThresholds& limits) {
  HostVerdict v;
  const int cores = std::max(1, a.cores);
  // The load average lags by a minute and counts this process's own work (a benchmark's previous
  // test still shows in it on an otherwise idle host), so it decides only when the window was too
  // short for the shares below to be measured; otherwise the shares are the direct evidence.
  if (a.window_s < limits.min_share_window_s && a.load1 > limits.max_load_per_core * cores) {
    v.reasons.push_back(fmt("load %.1f", a.load1) + " on " + std::to_string(cores) + (cores == 1 ? " core" : " cores"));
  }
  if (a.steal_share > limits.max_steal_share) v.reasons.push_back(fmt("steal %.0f %%", 100 * a.steal_share));
  if (a.other_cpu_share > limits.max_other_cpu_share) {
    v.reasons.push_back(fmt("other processes used %.0f %% of the CPUs", 100 * a.other_cpu_share));
  }
  v.quiet = v.reasons.empty();
  return v;
}

Expected<HostSnapshot> take_host_snapshot() {
  HostSnapshot s;
  auto load = read_file("/proc/loadavg");
  if (!load) return load.error();
  auto load1 = parse_loadavg(*load);
  if (!load1) return load1.error();
  auto stat_text = read_file("/proc/stat");
  if (!stat_text) return stat_text.error();
  auto stat = parse_proc_stat(*stat_text);
  if (!stat) return stat.error();
  s.load1 = *load1;
  s.stat = *stat;
  s.own_cpu_s = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
  s.wall_s = clock_seconds(CLOCK_MONOTONIC);
  return s;
}

HostActivity host_activity_between(const HostSnapshot& before, const HostSnapshot& after) {
  return host_activity_between(before.stat, after.stat, before.load1, after.own_cpu_s - before.own_cpu_s,
                               after.wall_s - before.wall_s, static_cast<int64_t>(::sysconf(_SC_CLK_TCK)));
}

}  // namespace frugal
