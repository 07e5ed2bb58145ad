// Tests core/host_activity.h and core/cache_info.h on fixed /proc- and sysfs-format text: the
// parsers, the shares computed from two /proc/stat snapshots, and the quiet/busy verdict.
#include "core/host_activity.h"

#include <gtest/gtest.h>

#include "core/cache_info.h"

namespace frugal {
namespace {

// Two-CPU /proc/stat text; columns user nice system idle iowait irq softirq steal guest guest_nice.
std::string proc_stat(int64_t user, int64_t system, int64_t idle, int64_t steal) {
  return "cpu  " + std::to_string(user) + " 0 " + std::to_string(system) + " " + std::to_string(idle) + " 0 0 0 " +
         std::to_string(steal) + " 0 0\n"
         "cpu0 1 0 1 1 0 0 0 0 0 0\n"
         "cpu1 1 0 1 1 0 0 0 0 0 0\n"
         "intr 12345 0 0\nctxt 999\nbtime 1700000000\nprocs_running 3\n";
}

TEST(HostActivity, ParsesTheOneMinuteLoadAverage) {
  auto load = parse_loadavg("5.21 3.10 2.00 4/467 12345\n");
  ASSERT_TRUE(load) << load.error().to_string();
  EXPECT_DOUBLE_EQ(*load, 5.21);
  EXPECT_FALSE(parse_loadavg(""));
  EXPECT_FALSE(parse_loadavg("busy 1 2"));
  EXPECT_FALSE(parse_loadavg("-1.0 0 0 1/2 3"));
}

TEST(HostActivity, ParsesTheAggregateCpuLineAndCountsCpus) {
  auto st = parse_proc_stat("cpu  4965776 2385714 633150 856884 3964 10 1784 1582 0 0\n"
                            "cpu0 2458731 1198856 313483 451011 970 0 366 804 0 0\n"
                            "cpu1 2507044 1186857 319666 405872 2994 0 1418 778 0 0\n"
                            "intr 1 2 3\n");
  ASSERT_TRUE(st) << st.error().to_string();
  EXPECT_EQ(st->online_cpus, 2);
  EXPECT_EQ(st->all.user, 4965776);
  EXPECT_EQ(st->all.nice, 2385714);
  EXPECT_EQ(st->all.idle, 856884);
  EXPECT_EQ(st->all.irq, 10);
  EXPECT_EQ(st->all.steal, 1582);
  EXPECT_EQ(st->all.busy(), 4965776 + 2385714 + 633150 + 10 + 1784);
  EXPECT_EQ(st->all.total(), st->all.busy() + 856884 + 3964 + 1582);
}

TEST(HostActivity, RejectsMalformedProcStat) {
  EXPECT_FALSE(parse_proc_stat(""));
  EXPECT_FALSE(parse_proc_stat("cpu0 1 2 3 4 5 6 7 8\n"));                 // no aggregate line
  EXPECT_FALSE(parse_proc_stat("cpu 1 2 3 4\ncpu0 1 2 3 4 5 6 7 8\n"));    // no steal column
  EXPECT_FALSE(parse_proc_stat("cpu 1 2 x 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n"));
  EXPECT_FALSE(parse_proc_stat("cpu 1 2 3 4 5 6 7 8\n"));                  // no per-CPU lines
}

// Over a 1 s window on 2 CPUs at 100 ticks/s (200 ticks): this process used 1.0 s (100 ticks),
// everything busy took 180 ticks, steal 10: others used 80 / 200 = 40 %, steal 5 %.
TEST(HostActivity, SharesComeFromTheSnapshotDeltasLessOurOwnCpu) {
  auto before = parse_proc_stat(proc_stat(1000, 500, 5000, 100));
  auto after = parse_proc_stat(proc_stat(1000 + 150, 500 + 30, 5000 + 10, 100 + 10));
  ASSERT_TRUE(before && after);
  const HostActivity a = host_activity_between(*before, *after, 5.2, 1.0, 1.0, 100);
  EXPECT_EQ(a.cores, 2);
  EXPECT_DOUBLE_EQ(a.load1, 5.2);
  EXPECT_NEAR(a.steal_share, 10.0 / 200.0, 1e-12);
  EXPECT_NEAR(a.other_cpu_share, 80.0 / 200.0, 1e-12);
  // Our own CPU time above the busy ticks (tick rounding) gives 0, not a negative share.
  const HostActivity alone = host_activity_between(*before, *after, 0.1, 5.0, 1.0, 100);
  EXPECT_DOUBLE_EQ(alone.other_cpu_share, 0.0);
  // An empty window: no ticks, no shares.
  const HostActivity empty = host_activity_between(*before, *before, 0.1, 0.0, 0.0, 100);
  EXPECT_DOUBLE_EQ(empty.steal_share, 0.0);
  EXPECT_DOUBLE_EQ(empty.other_cpu_share, 0.0);
}

TEST(HostActivity, QuietHostHasNoReasons) {
  HostActivity a;
  a.load1 = 0.8;  // the quiet development machine: 1-minute load < 0.8 on 2 cores
  a.cores = 2;
  a.steal_share = 0.01;
  a.other_cpu_share = 0.05;
  const HostVerdict v = judge_host(a);
  EXPECT_TRUE(v.quiet);
  EXPECT_TRUE(v.reasons.empty());
  EXPECT_EQ(v.summary(), "host quiet");
}

TEST(HostActivity, BusyHostSaysWhy) {
  HostActivity a;
  a.load1 = 5.2;
  a.cores = 2;
  a.steal_share = 0.03;
  a.other_cpu_share = 0.0;
  HostVerdict v = judge_host(a);
  EXPECT_FALSE(v.quiet);
  EXPECT_EQ(v.summary(), "host busy: load 5.2 on 2 cores, steal 3 %");
  // Each criterion alone is enough (the load only when the window is too short to measure shares).
  a = HostActivity{};
  a.load1 = 1.1;
  a.cores = 2;
  EXPECT_FALSE(judge_host(a).quiet);
  a.window_s = 2.0;
  a.load1 = 0;
  a.steal_share = 0.021;
  EXPECT_FALSE(judge_host(a).quiet);
  a.steal_share = 0;
  a.other_cpu_share = 0.11;
  v = judge_host(a);
  EXPECT_FALSE(v.quiet);
  EXPECT_EQ(v.summary(), "host busy: other processes used 11 % of the CPUs");
  // Thresholds are parameters: a looser limit accepts the same activity.
  QuietThresholds loose;
  loose.max_other_cpu_share = 0.5;
  EXPECT_TRUE(judge_host(a, loose).quiet);
}

TEST(HostActivity, ALongWindowJudgesByTheSharesNotByTheLaggingLoad) {
  // A benchmark's previous test leaves its own threads in the 1-minute load average; over a
  // measured window in which other processes and the hypervisor took almost nothing, the host was quiet.
  HostActivity a;
  a.load1 = 1.7;
  a.cores = 2;
  a.window_s = 3.0;
  a.steal_share = 0.0;
  a.other_cpu_share = 0.01;
  EXPECT_TRUE(judge_host(a).quiet) << judge_host(a).summary();
  a.other_cpu_share = 0.3;  // the same load with others busy in the window: busy, and says why
  EXPECT_EQ(judge_host(a).summary(), "host busy: other processes used 30 % of the CPUs");
  a.other_cpu_share = 0.0;
  a.window_s = 0.2;  // too short to measure shares: the load decides
  EXPECT_EQ(judge_host(a).summary(), "host busy: load 1.7 on 2 cores");
}

TEST(HostActivity, LiveSnapshotsReadThisMachine) {
  auto a = take_host_snapshot();
  ASSERT_TRUE(a) << a.error().to_string();
  auto b = take_host_snapshot();
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_GE(a->stat.online_cpus, 1);
  const HostActivity h = host_activity_between(*a, *b);
  EXPECT_GE(h.window_s, 0);
  EXPECT_GE(h.steal_share, 0);
  EXPECT_LE(h.other_cpu_share, 1);
}

TEST(CacheInfo, ParsesSysfsSizes) {
  EXPECT_EQ(parse_cache_size("491520K\n").value(), int64_t{491520} * 1024);
  EXPECT_EQ(parse_cache_size("32M").value(), int64_t{32} << 20);
  EXPECT_EQ(parse_cache_size("1024").value(), 1024);
  EXPECT_FALSE(parse_cache_size(""));
  EXPECT_FALSE(parse_cache_size("K"));
  EXPECT_FALSE(parse_cache_size("12X"));
}

TEST(CacheInfo, FindsALastLevelCacheOnLinux) {
  const CacheInfo c = last_level_cache();
  EXPECT_NE(c.source, "unknown");
  EXPECT_GT(c.llc_bytes, 0);
  EXPECT_GE(c.level, 2);
}

}  // namespace
}  // namespace frugal
