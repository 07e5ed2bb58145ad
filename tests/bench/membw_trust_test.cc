// Tests engine/membw_trust.h (when a probe reading may be an MBU denominator, and the MBU gate) and
// the probe's statistics and sizing in engine/membw.h.
#include "engine/membw_trust.h"

#include <gtest/gtest.h>

namespace frugal {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

HostActivity quiet_host() {
  HostActivity h;
  h.load1 = 0.3;
  h.cores = 2;
  h.window_s = 4;
  return h;
}

// A steady 2-thread reading on 2 GiB arrays (4x a 480 MiB LLC and more).
MembwResult steady_reading() {
  MembwResult r;
  r.num_threads = 2;
  r.array_bytes = 2048 * kMiB;
  r.repetitions = 10;
  r.read = MembwStats{34.5, 34.1, 33.0};
  r.read_gb_per_s = r.read.best;
  return r;
}

TEST(MembwStats, BestMedianMinAndSpread) {
  const MembwStats s = membw_stats({30, 20, 25, 40});
  EXPECT_DOUBLE_EQ(s.best, 40);
  EXPECT_DOUBLE_EQ(s.median, 27.5);
  EXPECT_DOUBLE_EQ(s.min, 20);
  EXPECT_DOUBLE_EQ(s.relative_spread(), 0.5);
  EXPECT_DOUBLE_EQ(membw_stats({7}).relative_spread(), 0.0);
  EXPECT_DOUBLE_EQ(membw_stats({}).best, 0.0);
}

TEST(MembwSizing, FourTimesTheLlcWithinHalfTheFreeMemory) {
  EXPECT_EQ(default_probe_array_bytes(480 * kMiB, 0), 1920 * kMiB);
  EXPECT_EQ(default_probe_array_bytes(480 * kMiB, 64 * 1024 * kMiB), 1920 * kMiB);
  EXPECT_EQ(default_probe_array_bytes(8 * kMiB, 0), 128 * kMiB);  // small or unknown LLC: 128 MiB floor
  EXPECT_EQ(default_probe_array_bytes(0, 0), 128 * kMiB);
  // 2 GiB free: 3 arrays in 1 GiB, each 341 MiB (whole MiB).
  EXPECT_EQ(default_probe_array_bytes(480 * kMiB, 2048 * kMiB), 341 * kMiB);
}

TEST(ProbeTrust, AQuietSteadyLargeReadingIsTrusted) {
  const ProbeTrust t = judge_probe(steady_reading(), 480 * kMiB, quiet_host());
  EXPECT_TRUE(t.trusted) << t.why_no_mbu();
  EXPECT_TRUE(t.host_quiet);
  EXPECT_TRUE(t.reasons.empty());
  EXPECT_EQ(t.why_no_mbu(), "");
  EXPECT_NE(t.method.find("2 threads"), std::string::npos) << t.method;
  EXPECT_NE(t.method.find("best of 10"), std::string::npos) << t.method;
  EXPECT_NE(t.method.find("2048 MiB arrays (LLC 480 MiB)"), std::string::npos) << t.method;
}

TEST(ProbeTrust, ABusyHostIsRefusedWithItsNumbers) {
  HostActivity busy = quiet_host();
  busy.load1 = 5.2;
  busy.steal_share = 0.03;
  busy.other_cpu_share = 0.4;
  const ProbeTrust t = judge_probe(steady_reading(), 480 * kMiB, busy);
  EXPECT_FALSE(t.trusted);
  EXPECT_FALSE(t.host_quiet);
  EXPECT_EQ(t.why_no_mbu(), "host busy: steal 3 %, other processes used 40 % of the CPUs; MBU not reported");
}

TEST(ProbeTrust, CacheSizedArraysAndWideSpreadsAreRefused) {
  MembwResult small = steady_reading();
  small.array_bytes = 128 * kMiB;
  ProbeTrust t = judge_probe(small, 480 * kMiB, quiet_host());
  EXPECT_FALSE(t.trusted);
  EXPECT_TRUE(t.host_quiet);
  EXPECT_NE(t.why_no_mbu().find("128 MiB are under 4x the 480 MiB last-level cache"), std::string::npos)
      << t.why_no_mbu();
  // Exactly 4x is enough; an unknown LLC is not held against the reading.
  small.array_bytes = 4 * 480 * kMiB;
  EXPECT_TRUE(judge_probe(small, 480 * kMiB, quiet_host()).trusted);
  small.array_bytes = 128 * kMiB;
  EXPECT_TRUE(judge_probe(small, 0, quiet_host()).trusted);

  MembwResult spread = steady_reading();
  spread.read = MembwStats{34.5, 30.0, 20.0};  // 42 % below the best
  t = judge_probe(spread, 480 * kMiB, quiet_host());
  EXPECT_FALSE(t.trusted);
  EXPECT_NE(t.why_no_mbu().find("read repetitions spread 42 %"), std::string::npos) << t.why_no_mbu();
  // Unknown host activity is not quiet.
  t = judge_probe(steady_reading(), 480 * kMiB, std::nullopt);
  EXPECT_FALSE(t.trusted);
  EXPECT_NE(t.why_no_mbu().find("host activity unknown"), std::string::npos);
}

TEST(MbuGate, ReportsAFractionAgainstATrustedReading) {
  const ProbeTrust t = judge_probe(steady_reading(), 480 * kMiB, quiet_host());
  // The figures: 21.92 tok/s x 0.763 GB per token against 34.5 GB/s ~ 48 %.
  const MbuReading m = gate_mbu(t, 21.92 * 0.763e9, 34.5e9);
  ASSERT_TRUE(m.mbu.has_value()) << m.withheld;
  EXPECT_NEAR(*m.mbu, 21.92 * 0.763 / 34.5, 1e-12);
  EXPECT_TRUE(m.withheld.empty());
  // Exactly at the bandwidth: 100 %, still a figure.
  EXPECT_DOUBLE_EQ(gate_mbu(t, 34.5e9, 34.5e9).mbu.value(), 1.0);
}

TEST(MbuGate, NeverAboveOneAndNeverClamped) {
  const ProbeTrust t = judge_probe(steady_reading(), 480 * kMiB, quiet_host());
  // The old table's case: decode traffic above a low probe reading (16.7 GB/s against 12 GB/s).
  const MbuReading m = gate_mbu(t, 16.7e9, 12e9);
  EXPECT_FALSE(m.mbu.has_value());
  EXPECT_NE(m.withheld.find("probe reading inconsistent"), std::string::npos) << m.withheld;
  EXPECT_NE(m.withheld.find("16.70 GB/s"), std::string::npos) << m.withheld;
  EXPECT_NE(m.withheld.find("MBU not reported"), std::string::npos) << m.withheld;
  // No bandwidth or no traffic: nothing to divide.
  EXPECT_FALSE(gate_mbu(t, 1e9, 0).mbu.has_value());
  EXPECT_FALSE(gate_mbu(t, 0, 30e9).mbu.has_value());
}

TEST(MbuGate, AnUntrustedReadingWithholdsEvenAPlausibleMbu) {
  HostActivity busy = quiet_host();
  busy.load1 = 5.2;
  busy.other_cpu_share = 0.4;
  const ProbeTrust t = judge_probe(steady_reading(), 480 * kMiB, busy);
  const MbuReading m = gate_mbu(t, 10e9, 34.5e9);
  EXPECT_FALSE(m.mbu.has_value());
  EXPECT_EQ(m.withheld, "host busy: other processes used 40 % of the CPUs; MBU not reported");
}

// The live path: a real (small) measurement gets a verdict with the method and the host's numbers.
TEST(MembwProbe, MeasuresWithAVerdict) {
  auto probe = MembwProbe::create(4 * kMiB);
  ASSERT_TRUE(probe) << probe.error().to_string();
  ThreadPool pool(2);
  const TrustedMembw m = measure_membw_with_verdict(*probe, pool, 3, 64 * kMiB);
  EXPECT_EQ(m.result.repetitions, 3);
  EXPECT_GT(m.result.read.min, 0);
  EXPECT_LE(m.result.read.min, m.result.read.median);
  EXPECT_LE(m.result.read.median, m.result.read.best);
  EXPECT_DOUBLE_EQ(m.result.read_gb_per_s, m.result.read.best);
  EXPECT_GE(m.trust.host.cores, 1);
  // 4 MiB arrays against a 64 MiB LLC: never trusted, whatever the host does.
  EXPECT_FALSE(m.trust.trusted);
  EXPECT_NE(m.trust.why_no_mbu().find("last-level cache"), std::string::npos) << m.trust.why_no_mbu();
}

}  // namespace
}  // namespace frugal
