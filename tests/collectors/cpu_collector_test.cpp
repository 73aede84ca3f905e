#include "collectors/cpu_collector.h"

#include "collectors/host_collector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "test_util.h"

namespace metricsd {
namespace {

using testing_util::Ctx;
using testing_util::FixtureHost;
using testing_util::ScratchHost;
using testing_util::Value;

using namespace std::chrono_literals;

// The collection time, as the agent's clock would give it: `since` after an arbitrary start.
CollectContext At(std::chrono::steady_clock::duration since) {
  CollectContext ctx = Ctx();
  ctx.steady_now = std::chrono::steady_clock::time_point(std::chrono::hours(1000)) + since;
  return ctx;
}

// Busy share of the fixture's lines since boot: per core 6690 of 31890 ticks, total 13380 of
// 63780 (busy = total - idle - iowait).
constexpr double kFixtureCorePercent = 100.0 * 6690 / 31890;
constexpr double kFixtureTotalPercent = 100.0 * 13380 / 63780;

// The fixture plus 100 ticks on cpu0 (40 busy) and 100 idle ticks on cpu2.
constexpr const char* kAdvancedStat =
    "cpu  10030 200 3010 50150 410 50 60 70 0 0\n"
    "cpu0 5030 100 1510 25050 210 25 30 35 0 0\n"
    "cpu2 5000 100 1500 25100 200 25 30 35 0 0\n"
    "btime 1700000000\n";

TEST(CpuCollector, CountsAndCountersFromFixture) {
  CpuCollector cpu(FixtureHost());
  CollectResult r = cpu.Collect(Ctx(42));
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(Value(r, "system_cpu_count"), 2.0);
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  EXPECT_EQ(Value(r, "system_cpu_seconds_total", {{"core", "2"}, {"mode", "user"}}), 5000 / hz);
  EXPECT_EQ(Value(r, "system_cpu_seconds_total", {{"core", "0"}, {"mode", "steal"}}), 35 / hz);
  EXPECT_EQ(testing_util::SampleCount(r, "system_cpu_seconds_total"), 16u);
  for (const MetricFamily& family : r.families) {
    EXPECT_FALSE(family.help.empty()) << family.name;
    for (const Sample& s : family.samples) {
      EXPECT_EQ(s.timestamp_ms, 42);
    }
  }
}

TEST(CpuCollector, FirstCollectReportsEveryCoreWithItsSinceBootAverage) {
  ScratchHost host;
  CpuCollector cpu(host.paths());
  // Right after construction, with no tick elapsed: the counters are the delta from boot.
  CollectResult r = cpu.Collect(At(0s));
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(testing_util::SampleCount(r, "system_cpu_usage_percent"), 2u);
  EXPECT_DOUBLE_EQ(*Value(r, "system_cpu_usage_percent", {{"core", "0"}}), kFixtureCorePercent);
  EXPECT_DOUBLE_EQ(*Value(r, "system_cpu_usage_percent", {{"core", "2"}}), kFixtureCorePercent);
  EXPECT_DOUBLE_EQ(*Value(r, "system_cpu_usage_total_percent"), kFixtureTotalPercent);

  // A full interval later with no tick elapsed on any CPU: every core is still there, with
  // the last value (nothing is known about the interval, and 0 would be a guess).
  CollectResult again = cpu.Collect(At(60s));
  EXPECT_EQ(testing_util::SampleCount(again, "system_cpu_usage_percent"), 2u);
  EXPECT_DOUBLE_EQ(*Value(again, "system_cpu_usage_percent", {{"core", "2"}}), kFixtureCorePercent);
  EXPECT_DOUBLE_EQ(*Value(again, "system_cpu_usage_total_percent"), kFixtureTotalPercent);
}

TEST(CpuCollector, LaterCollectsUseTheTicksSinceThePrevious) {
  ScratchHost host;
  CpuCollector cpu(host.paths());
  cpu.Collect(At(0s));
  host.Write("proc/stat", kAdvancedStat);
  CollectResult r = cpu.Collect(At(60s));
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  // cpu0: 100 ticks passed, 40 busy (user 30 + system 10); iowait is not busy.
  EXPECT_DOUBLE_EQ(*Value(r, "system_cpu_usage_percent", {{"core", "0"}}), 40.0);
  // The label is the kernel's CPU number: cpu1 is offline, so the second core is "2".
  EXPECT_DOUBLE_EQ(*Value(r, "system_cpu_usage_percent", {{"core", "2"}}), 0.0);
  EXPECT_EQ(Value(r, "system_cpu_usage_percent", {{"core", "1"}}), std::nullopt);
  // The total comes from the aggregate line (200 ticks, 40 busy), not a mean of cores.
  EXPECT_DOUBLE_EQ(*Value(r, "system_cpu_usage_total_percent"), 20.0);

  // Nothing moved: the last values are repeated rather than dropped or zeroed.
  CollectResult again = cpu.Collect(At(120s));
  EXPECT_DOUBLE_EQ(*Value(again, "system_cpu_usage_percent", {{"core", "0"}}), 40.0);
  EXPECT_DOUBLE_EQ(*Value(again, "system_cpu_usage_total_percent"), 20.0);
}

TEST(CpuCollector, ReadingTooSoonAfterThePreviousRepeatsTheLastValue) {
  ScratchHost host;
  CpuCollector cpu(host.paths());
  cpu.Collect(At(0s));
  host.Write("proc/stat", kAdvancedStat);
  // 1 ms after the previous reading: far too short a window to measure (a tick is 10 ms), so
  // the since-boot value stays and the window goes on.
  CollectResult soon = cpu.Collect(At(1ms));
  EXPECT_DOUBLE_EQ(*Value(soon, "system_cpu_usage_percent", {{"core", "0"}}), kFixtureCorePercent);
  EXPECT_DOUBLE_EQ(*Value(soon, "system_cpu_usage_total_percent"), kFixtureTotalPercent);
  // Still measured from the reading at 0 s.
  CollectResult later = cpu.Collect(At(CpuCollector::kMinWindow));
  EXPECT_DOUBLE_EQ(*Value(later, "system_cpu_usage_percent", {{"core", "0"}}), 40.0);
  EXPECT_DOUBLE_EQ(*Value(later, "system_cpu_usage_total_percent"), 20.0);
}

TEST(CpuCollector, CpuComingOnlineStartsWithItsSinceBootAverage) {
  ScratchHost host;
  CpuCollector cpu(host.paths());
  cpu.Collect(At(0s));
  host.Write("proc/stat",
             "cpu  10030 200 3010 50150 410 50 60 70 0 0\n"
             "cpu0 5030 100 1510 25050 210 25 30 35 0 0\n"
             "cpu1 7 0 7 7 0 0 0 0 0 0\n"
             "cpu2 5000 100 1500 25100 200 25 30 35 0 0\n");
  CollectResult r = cpu.Collect(At(60s));
  EXPECT_EQ(Value(r, "system_cpu_count"), 3.0);
  EXPECT_DOUBLE_EQ(*Value(r, "system_cpu_usage_percent", {{"core", "0"}}), 40.0);
  EXPECT_DOUBLE_EQ(*Value(r, "system_cpu_usage_percent", {{"core", "1"}}), 100.0 * 14 / 21);
  EXPECT_TRUE(Value(r, "system_cpu_seconds_total", {{"core", "1"}, {"mode", "idle"}}));
  host.Write("proc/stat",
             "cpu  10030 200 3010 50150 410 50 60 70 0 0\n"
             "cpu0 5030 100 1510 25050 210 25 30 35 0 0\n"
             "cpu1 17 0 7 7 0 0 0 0 0 0\n"
             "cpu2 5000 100 1500 25100 200 25 30 35 0 0\n");
  r = cpu.Collect(At(120s));
  EXPECT_DOUBLE_EQ(*Value(r, "system_cpu_usage_percent", {{"core", "1"}}), 100.0);
}

TEST(CpuCollector, EmptyOrGarbledStatIsTransientAndRecovers) {
  ScratchHost host;
  CpuCollector cpu(host.paths());
  cpu.Collect(At(0s));
  // The file stays open across ticks (as /proc files do), so rewrite it in place.
  host.Write("proc/stat", "");
  EXPECT_EQ(cpu.Collect(At(60s)).status, CollectStatus::kTransient);
  host.Write("proc/stat", "garbage\n");
  EXPECT_EQ(cpu.Collect(At(120s)).status, CollectStatus::kTransient);
  host.Write("proc/stat", kAdvancedStat);
  CollectResult r = cpu.Collect(At(180s));
  EXPECT_EQ(r.status, CollectStatus::kOk);
  // Measured from the last good reading.
  EXPECT_DOUBLE_EQ(*Value(r, "system_cpu_usage_total_percent"), 20.0);
}

TEST(CpuCollector, StatMissingAtConstructionStillWorksLater) {
  ScratchHost host;
  host.Remove("proc/stat");
  CpuCollector cpu(host.paths());
  EXPECT_EQ(cpu.Collect(At(0s)).status, CollectStatus::kTransient);
  host.Write("proc/stat", kAdvancedStat);
  CollectResult r = cpu.Collect(At(60s));
  EXPECT_EQ(r.status, CollectStatus::kOk);
  EXPECT_EQ(Value(r, "system_cpu_count"), 2.0);
  EXPECT_DOUBLE_EQ(*Value(r, "system_cpu_usage_total_percent"), 100.0 * 13420 / 63980);
}

TEST(ProcStatSource, OneReadPerTickSharedByCpuAndHost) {
  ScratchHost host;
  auto source = std::make_shared<ProcStatSource>(host.paths());
  CpuCollector cpu(host.paths(), source);
  HostCollector host_collector(host.paths(), source);
  const CollectContext tick = At(0s);
  host.Write("proc/stat", kAdvancedStat);
  CollectResult c = cpu.Collect(tick);
  // Same tick: the host collector gets the parse the CPU collector caused, even though the
  // file changed since.
  host.Write("proc/stat", "cpu  1 1 1 1\nbtime 42\n");
  CollectResult h = host_collector.Collect(tick);
  EXPECT_EQ(Value(c, "system_cpu_count"), 2.0);
  EXPECT_EQ(Value(h, "system_boot_time_seconds"), 1700000000.0);
  // A new tick reads again.
  CollectContext next = tick;
  next.steady_now += std::chrono::seconds(1);
  EXPECT_EQ(Value(host_collector.Collect(next), "system_boot_time_seconds"), 42.0);
}

}  // namespace
}  // namespace metricsd
