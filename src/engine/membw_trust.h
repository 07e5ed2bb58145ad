// Whether a bandwidth-probe reading can be used as an MBU denominator, and the MBU gate (engine layer).
// Central idea: a probe reading is trusted only when (1) the host was quiet around it (core/
// host_activity.h: load average, steal, other processes' CPU share over the probe's window),
// (2) its arrays were at least 4x the last-level cache, and (3) its read repetitions agree (relative
// spread at most 15 %). An untrusted reading still prints as bandwidth, with the reasons, but no MBU
// is derived from it; and a trusted reading below the traffic decode achieved is called inconsistent,
// again without an MBU. So MBU is either a figure in (0, 1] or absent with a sentence saying why:
// never clamped, never above 100 %.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/host_activity.h"
#include "engine/membw.h"

namespace frugal {

inline constexpr double kMaxProbeRelativeSpread = 0.15;
inline constexpr int64_t kProbeLlcMultiple = 4;

struct ProbeTrust {
  bool trusted = false;
  bool host_quiet = false;
  HostActivity host;
  std::vector<std::string> reasons;  // empty when trusted
  std::string method;                // how the reading was taken, in words (for records and reports)
  // "host busy: load 5.2 on 2 cores, steal 3 %; MBU not reported"; "" when trusted.
  std::string why_no_mbu() const;
};

// The verdict for `result` (array size against `llc_bytes`, 0 = unknown: not checked), measured while
// the host did `host` (nullopt: /proc unreadable, then not quiet).
ProbeTrust judge_probe(const MembwResult& result, int64_t llc_bytes, const std::optional<HostActivity>& host,
                       const QuietThresholds& limits = {});

// A probe reading with its verdict: what `frugal bench` measures.
struct TrustedMembw {
  MembwResult result;
  ProbeTrust trust;
};
// Snapshots the host, runs probe.measure(pool, repetitions), snapshots again, and judges.
TrustedMembw measure_membw_with_verdict(MembwProbe& probe, ThreadPool& pool, int repetitions, int64_t llc_bytes);

struct MbuReading {
  std::optional<double> mbu;  // achieved / read bandwidth, in (0, 1]; nullopt when withheld
  std::string withheld;       // why, when mbu is nullopt
};
// achieved_bytes_per_s: bytes per token x tokens/s; read_bytes_per_s: the probe's read bandwidth.
MbuReading gate_mbu(const ProbeTrust& trust, double achieved_bytes_per_s, double read_bytes_per_s);

}  // namespace frugal
