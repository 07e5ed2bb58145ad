#include "engine/membw_trust.h"

#include <cstdio>

namespace frugal {
namespace {

std::string fmt(const char* format, double a, double b = 0, double c = 0) {
  char buf[512];
  std::snprintf(buf, sizeof(buf), format, a, b, c);
  return buf;
}

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

std::string ProbeTrust::why_no_mbu() const {
  if (trusted) return "";
  std::string s;
  for (size_t i = 0; i < reasons.size(); ++i) s += (i ? "; " : "") + reasons[i];
  return s + "; MBU not reported";
}

ProbeTrust judge_probe(const MembwResult& r, int64_t llc_bytes, const std::optional<HostActivity>& host,
                       const QuietThresholds& limits) {
  ProbeTrust t;
  t.method = "streaming read (sum of 8 B doubles), " + std::to_string(r.num_threads) + " thread" +
             (r.num_threads == 1 ? "" : "s") + " on contiguous slices, " +
             fmt("%.0f MiB arrays", static_cast<double>(r.array_bytes) / kMiB) +
             (llc_bytes > 0 ? fmt(" (LLC %.0f MiB)", static_cast<double>(llc_bytes) / kMiB) : " (LLC unknown)") +
             ", best of " + std::to_string(r.repetitions) + " after 1 warm-up";
  if (host) {
    t.host = *host;
    const HostVerdict v = judge_host(*host, limits);
    t.host_quiet = v.quiet;
    if (!v.quiet) t.reasons.push_back(v.summary());
  } else {
    t.reasons.push_back("host activity unknown (/proc unreadable)");
  }
  if (llc_bytes > 0 && r.array_bytes < kProbeLlcMultiple * llc_bytes) {
    t.reasons.push_back(fmt("probe arrays %.0f MiB are under 4x the %.0f MiB last-level cache",
                            static_cast<double>(r.array_bytes) / kMiB, static_cast<double>(llc_bytes) / kMiB));
  }
  if (r.read.relative_spread() > kMaxProbeRelativeSpread) {
    t.reasons.push_back(fmt("read repetitions spread %.0f %% (min %.1f, best %.1f GB/s)",
                            100 * r.read.relative_spread(), r.read.min, r.read.best));
  }
  t.trusted = t.reasons.empty();
  return t;
}

TrustedMembw measure_membw_with_verdict(MembwProbe& probe, ThreadPool& pool, int repetitions, int64_t llc_bytes) {
  TrustedMembw out;
  auto before = take_host_snapshot();
  out.result = probe.measure(pool, repetitions);
  auto after = take_host_snapshot();
  std::optional<HostActivity> host;
  if (before && after) host = host_activity_between(*before, *after);
  out.trust = judge_probe(out.result, llc_bytes, host);
  return out;
}

MbuReading gate_mbu(const ProbeTrust& trust, double achieved_bytes_per_s, double read_bytes_per_s) {
  MbuReading m;
  if (!trust.trusted) {
    m.withheld = trust.why_no_mbu();
    return m;
  }
  if (!(read_bytes_per_s > 0) || !(achieved_bytes_per_s > 0)) {
    m.withheld = "no bandwidth or no traffic measured; MBU not reported";
    return m;
  }
  if (achieved_bytes_per_s > read_bytes_per_s) {
    m.withheld = fmt("probe reading inconsistent: the test moved %.2f GB/s, above the probe's %.2f GB/s read "
                     "bandwidth (weights cache-resident, or the probe was disturbed); MBU not reported",
                     achieved_bytes_per_s / 1e9, read_bytes_per_s / 1e9);
    return m;
  }
  m.mbu = achieved_bytes_per_s / read_bytes_per_s;
  return m;
}

}  // namespace frugal
