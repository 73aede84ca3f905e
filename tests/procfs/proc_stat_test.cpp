#include "procfs/proc_stat.h"

#include <gtest/gtest.h>

#include <string>

namespace metricsd::procfs {
namespace {

struct StatCase {
  const char* name;
  const char* text;
  int columns;  // columns on the cpu lines
};

class ProcStatColumns : public testing::TestWithParam<StatCase> {};

TEST_P(ProcStatColumns, ParsesEveryKernelVariant) {
  ProcStat stat;
  ASSERT_TRUE(ParseProcStat(GetParam().text, stat));
  ASSERT_TRUE(stat.has_total);
  EXPECT_EQ(stat.total.user, 100u);
  EXPECT_EQ(stat.total.nice, 2u);
  EXPECT_EQ(stat.total.system, 30u);
  EXPECT_EQ(stat.total.idle, 400u);
  const int columns = GetParam().columns;
  EXPECT_EQ(stat.total.iowait, columns >= 5 ? 5u : 0u);
  EXPECT_EQ(stat.total.steal, columns >= 8 ? 8u : 0u);
  EXPECT_EQ(stat.total.guest, columns >= 9 ? 9u : 0u);
  EXPECT_EQ(stat.total.guest_nice, columns >= 10 ? 10u : 0u);
  ASSERT_EQ(stat.cpus.size(), 1u);
  EXPECT_EQ(stat.cpus[0].cpu, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Kernels, ProcStatColumns,
    testing::Values(StatCase{"linux24", "cpu  100 2 30 400\ncpu0 100 2 30 400\n", 4},
                    StatCase{"linux26", "cpu  100 2 30 400 5 6 7\ncpu0 100 2 30 400 5 6 7\n", 7},
                    StatCase{"steal", "cpu  100 2 30 400 5 6 7 8\ncpu0 100 2 30 400 5 6 7 8\n", 8},
                    StatCase{"guest", "cpu  100 2 30 400 5 6 7 8 9\ncpu0 100 2 30 400 5 6 7 8 9\n",
                             9},
                    StatCase{"modern",
                             "cpu  100 2 30 400 5 6 7 8 9 10\ncpu0 100 2 30 400 5 6 7 8 9 10\n"
                             "intr 1 2 3\nctxt 99\nbtime 1700000000\nprocesses 5\n"
                             "procs_running 2\nprocs_blocked 1\n",
                             10}),
    [](const testing::TestParamInfo<StatCase>& info) { return std::string(info.param.name); });

TEST(ProcStat, KeepsKernelCpuNumbersWhenSomeAreOffline) {
  ProcStat stat;
  ASSERT_TRUE(
      ParseProcStat("cpu  3 0 3 3 0 0 0 0 0 0\n"
                    "cpu0 1 0 1 1 0 0 0 0 0 0\n"
                    "cpu2 1 0 1 1 0 0 0 0 0 0\n"
                    "cpu17 1 0 1 1 0 0 0 0 0 0\n",
                    stat));
  ASSERT_EQ(stat.cpus.size(), 3u);
  EXPECT_EQ(stat.cpus[0].cpu, 0);
  EXPECT_EQ(stat.cpus[1].cpu, 2);
  EXPECT_EQ(stat.cpus[2].cpu, 17);
}

TEST(ProcStat, ReadsHostFields) {
  ProcStat stat;
  ASSERT_TRUE(
      ParseProcStat("cpu  1 2 3 4 5 6 7 8 9 10\nintr 139115 0 0 1\nctxt 324993\n"
                    "btime 1795581323\nprocesses 10776\nprocs_running 4\n"
                    "procs_blocked 2\nsoftirq 1 2 3\n",
                    stat));
  EXPECT_TRUE(stat.has_boot_time);
  EXPECT_EQ(stat.boot_time, 1795581323u);
  EXPECT_EQ(stat.context_switches, 324993u);
  EXPECT_EQ(stat.forks, 10776u);
  EXPECT_EQ(stat.procs_running, 4u);
  EXPECT_EQ(stat.procs_blocked, 2u);
  EXPECT_TRUE(stat.cpus.empty());
}

TEST(ProcStat, ReusesTheResultAndResetsIt) {
  ProcStat stat;
  ASSERT_TRUE(ParseProcStat("cpu  1 1 1 1\ncpu0 1 1 1 1\ncpu1 1 1 1 1\nbtime 5\n", stat));
  ASSERT_TRUE(ParseProcStat("cpu  1 1 1 1\ncpu0 1 1 1 1\n", stat));
  EXPECT_EQ(stat.cpus.size(), 1u);
  EXPECT_FALSE(stat.has_boot_time);
}

TEST(ProcStat, RejectsGarbage) {
  ProcStat stat;
  EXPECT_FALSE(ParseProcStat("", stat));
  EXPECT_FALSE(ParseProcStat("hello world\n", stat));
  EXPECT_FALSE(ParseProcStat("cpu  1 2\n", stat));      // too few columns
  EXPECT_FALSE(ParseProcStat("cpu  1 x 3 4\n", stat));  // not a number
  EXPECT_FALSE(ParseProcStat("cpuX 1 2 3 4\n", stat));
}

TEST(CpuTimes, TotalLeavesGuestOutAndBusyLeavesIdleOut) {
  CpuTimes t{.user = 10,
             .nice = 1,
             .system = 5,
             .idle = 80,
             .iowait = 4,
             .irq = 1,
             .softirq = 1,
             .steal = 2,
             .guest = 3,
             .guest_nice = 1};
  EXPECT_EQ(t.Total(), 104u);
  EXPECT_EQ(t.Busy(), 20u);
}

TEST(CpuTimes, DifferenceTreatsBackwardsFieldsAsZero) {
  CpuTimes before{.user = 10, .idle = 100, .iowait = 50};
  CpuTimes now{.user = 30, .idle = 160, .iowait = 40};  // iowait went backwards
  CpuTimes d = now - before;
  EXPECT_EQ(d.user, 20u);
  EXPECT_EQ(d.idle, 60u);
  EXPECT_EQ(d.iowait, 0u);
  EXPECT_DOUBLE_EQ(BusyPercent(d), 25.0);
}

TEST(CpuTimes, BusyPercentIsNegativeWhenNoTimePassed) {
  EXPECT_LT(BusyPercent(CpuTimes{}), 0);
  EXPECT_DOUBLE_EQ(BusyPercent(CpuTimes{.idle = 10}), 0.0);
  EXPECT_DOUBLE_EQ(BusyPercent(CpuTimes{.system = 10}), 100.0);
}

}  // namespace
}  // namespace metricsd::procfs
