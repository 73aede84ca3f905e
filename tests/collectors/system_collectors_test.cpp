// Memory, host, pressure, disk I/O and network collectors on the fixture trees.
#include <gtest/gtest.h>

#include <cmath>

#include "collectors/diskio_collector.h"
#include "collectors/host_collector.h"
#include "collectors/memory_collector.h"
#include "collectors/network_collector.h"
#include "collectors/pressure_collector.h"
#include "test_util.h"

namespace metricsd {
namespace {

using testing_util::Ctx;
using testing_util::FixtureHost;
using testing_util::SampleCount;
using testing_util::ScratchHost;
using testing_util::Value;

constexpr double kKiB = 1024;

TEST(MemoryCollector, ValuesFromFixture) {
  MemoryCollector memory(FixtureHost());
  CollectResult r = memory.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(Value(r, "system_memory_total_bytes"), 16000000 * kKiB);
  EXPECT_EQ(Value(r, "system_memory_free_bytes"), 4000000 * kKiB);
  EXPECT_EQ(Value(r, "system_memory_available_bytes"), 9000000 * kKiB);
  EXPECT_EQ(Value(r, "system_memory_used_bytes"), 8000000 * kKiB);
  EXPECT_DOUBLE_EQ(*Value(r, "system_memory_usage_percent"), 50.0);
  EXPECT_EQ(Value(r, "system_swap_total_bytes"), 2000000 * kKiB);
  EXPECT_EQ(Value(r, "system_swap_used_bytes"), 500000 * kKiB);
  EXPECT_DOUBLE_EQ(*Value(r, "system_swap_usage_percent"), 25.0);
}

TEST(MemoryCollector, NoSwapOldKernelAndNoNaN) {
  ScratchHost host;
  host.Write("proc/meminfo",
             "MemTotal: 1000 kB\nMemFree: 900 kB\nBuffers: 10 kB\nCached: 20 kB\n"
             "SwapTotal: 0 kB\nSwapFree: 0 kB\n");
  MemoryCollector memory(host.paths());
  CollectResult r = memory.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk);
  EXPECT_EQ(Value(r, "system_memory_available_bytes"), 930 * kKiB);
  EXPECT_EQ(Value(r, "system_swap_total_bytes"), 0.0);
  EXPECT_EQ(Value(r, "system_swap_usage_percent"), 0.0);
  for (const MetricFamily& family : r.families) {
    for (const Sample& s : family.samples) {
      EXPECT_FALSE(std::isnan(s.value)) << family.name;
    }
  }
  host.Write("proc/meminfo", "MemTotal: 0 kB\n");
  r = memory.Collect(Ctx());
  EXPECT_EQ(Value(r, "system_memory_usage_percent"), 0.0);
  host.Write("proc/meminfo", "");
  EXPECT_EQ(memory.Collect(Ctx()).status, CollectStatus::kTransient);
  ScratchHost empty;
  empty.Remove("proc/meminfo");
  MemoryCollector missing(empty.paths());
  EXPECT_EQ(missing.Collect(Ctx()).status, CollectStatus::kTransient);
}

TEST(HostCollector, ValuesFromFixture) {
  HostCollector host(FixtureHost());
  CollectResult r = host.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_TRUE(r.message.empty()) << r.message;
  EXPECT_DOUBLE_EQ(*Value(r, "system_uptime_seconds"), 12345.67);
  EXPECT_EQ(testing_util::FindFamily(r, "system_uptime_seconds")->type, MetricType::kGauge);
  EXPECT_EQ(Value(r, "system_boot_time_seconds"), 1700000000.0);
  EXPECT_DOUBLE_EQ(*Value(r, "system_load_1"), 0.25);
  EXPECT_DOUBLE_EQ(*Value(r, "system_load_5"), 0.5);
  EXPECT_DOUBLE_EQ(*Value(r, "system_load_15"), 1.75);
  EXPECT_EQ(Value(r, "system_procs_running"), 3.0);
  EXPECT_EQ(Value(r, "system_procs_blocked"), 1.0);
  EXPECT_EQ(Value(r, "system_processes"), 2.0);  // directories "1" and "42"
  EXPECT_EQ(Value(r, "system_forks_total"), 10776.0);
  EXPECT_EQ(Value(r, "system_context_switches_total"), 324993.0);
}

TEST(HostCollector, OneMissingSourceLeavesTheOthers) {
  ScratchHost scratch;
  scratch.Remove("proc/loadavg");
  HostCollector host(scratch.paths());
  CollectResult r = host.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk);
  EXPECT_NE(r.message.find("loadavg"), std::string::npos);
  EXPECT_EQ(Value(r, "system_load_1"), std::nullopt);
  EXPECT_TRUE(Value(r, "system_uptime_seconds"));
}

TEST(PressureCollector, StallSecondsFromFixture) {
  PressureCollector psi(FixtureHost());
  CollectResult r = psi.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_DOUBLE_EQ(*Value(r, "system_pressure_cpu_some_seconds_total"), 1.5);
  EXPECT_DOUBLE_EQ(*Value(r, "system_pressure_cpu_full_seconds_total"), 0.25);
  EXPECT_DOUBLE_EQ(*Value(r, "system_pressure_memory_full_seconds_total"), 1.0);
  EXPECT_DOUBLE_EQ(*Value(r, "system_pressure_io_some_seconds_total"), 3.0);
  EXPECT_EQ(r.families.size(), 6u);  // no irq file in the fixture
  EXPECT_EQ(testing_util::FindFamily(r, "system_pressure_io_full_seconds_total")->type,
            MetricType::kCounter);
}

TEST(PressureCollector, KernelWithoutPsiIsNotApplicable) {
  ScratchHost host;
  host.Remove("proc/pressure");
  PressureCollector psi(host.paths());
  EXPECT_EQ(psi.Collect(Ctx()).status, CollectStatus::kNotApplicable);
}

TEST(DiskIoCollector, DefaultsLeaveOutPartitionsLoopAndOptical) {
  DiskIoCollector disk(FixtureHost(), config::DiskIoOptions{});
  CollectResult r = disk.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(SampleCount(r, "system_disk_read_bytes_total"), 3u);  // sda, nvme0n1, dm-0
  const Labels sda{{"device", "sda"}};
  EXPECT_EQ(Value(r, "system_disk_read_bytes_total", sda), 80000.0 * 512);
  EXPECT_EQ(Value(r, "system_disk_write_bytes_total", sda), 160000.0 * 512);
  EXPECT_EQ(Value(r, "system_disk_read_count_total", sda), 1000.0);
  EXPECT_EQ(Value(r, "system_disk_write_count_total", sda), 2000.0);
  EXPECT_DOUBLE_EQ(*Value(r, "system_disk_io_time_seconds_total", sda), 3.0);
  EXPECT_DOUBLE_EQ(*Value(r, "system_disk_read_time_seconds_total", sda), 0.5);
  EXPECT_DOUBLE_EQ(*Value(r, "system_disk_write_time_seconds_total", sda), 1.5);
  EXPECT_TRUE(Value(r, "system_disk_read_count_total", {{"device", "nvme0n1"}}));
  EXPECT_TRUE(Value(r, "system_disk_read_count_total", {{"device", "dm-0"}}));
  for (const char* excluded : {"sda1", "nvme0n1p1", "loop0", "sr0"}) {
    EXPECT_EQ(Value(r, "system_disk_read_count_total", {{"device", excluded}}), std::nullopt)
        << excluded;
  }
}

TEST(DiskIoCollector, IncludeAndExcludeFromConfig) {
  DiskIoCollector disk(FixtureHost(),
                       config::DiskIoOptions{.device_include = "^sd", .device_exclude = ""});
  CollectResult r = disk.Collect(Ctx());
  EXPECT_EQ(SampleCount(r, "system_disk_read_count_total"), 2u);
  EXPECT_TRUE(Value(r, "system_disk_read_count_total", {{"device", "sda1"}}));
}

TEST(DiskIoCollector, NewDeviceIsPickedUp) {
  ScratchHost host;
  DiskIoCollector disk(host.paths(), config::DiskIoOptions{});
  EXPECT_EQ(SampleCount(disk.Collect(Ctx()), "system_disk_read_count_total"), 3u);
  host.Write("proc/diskstats",
             "   8       0 sda 1000 10 80000 500 2000 20 160000 1500 2 3000 4000\n"
             "   8      16 sdb 7 0 56 1 0 0 0 0 0 1 1\n");
  CollectResult r = disk.Collect(Ctx());
  EXPECT_EQ(SampleCount(r, "system_disk_read_count_total"), 2u);
  EXPECT_EQ(Value(r, "system_disk_read_count_total", {{"device", "sdb"}}), 7.0);
  host.Write("proc/diskstats", "   7       0 loop0 10 0 20 1 0 0 0 0 0 1 1\n");
  r = disk.Collect(Ctx());
  EXPECT_EQ(r.status, CollectStatus::kOk);
  EXPECT_TRUE(r.families.empty());
}

TEST(NetworkCollector, AllInterfacesByDefault) {
  NetworkCollector net(FixtureHost(), config::NetworkOptions{});
  CollectResult r = net.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(r.families.size(), 8u);
  EXPECT_EQ(SampleCount(r, "system_network_bytes_recv_total"), 3u);
  const Labels eth0{{"interface", "eth0"}};
  EXPECT_EQ(Value(r, "system_network_bytes_recv_total", eth0), 12345678901.0);
  EXPECT_EQ(Value(r, "system_network_bytes_sent_total", eth0), 61639.0);
  EXPECT_EQ(Value(r, "system_network_packets_recv_total", eth0), 1453.0);
  EXPECT_EQ(Value(r, "system_network_packets_sent_total", eth0), 799.0);
  EXPECT_EQ(Value(r, "system_network_errors_in_total", eth0), 1.0);
  EXPECT_EQ(Value(r, "system_network_drop_in_total", eth0), 2.0);
  EXPECT_EQ(Value(r, "system_network_errors_out_total", eth0), 4.0);
  EXPECT_EQ(Value(r, "system_network_drop_out_total", eth0), 5.0);
}

TEST(NetworkCollector, ExcludeFilter) {
  NetworkCollector net(FixtureHost(), config::NetworkOptions{.interface_include = "",
                                                             .interface_exclude = "^(lo|docker)"});
  CollectResult r = net.Collect(Ctx());
  EXPECT_EQ(SampleCount(r, "system_network_bytes_recv_total"), 1u);
  EXPECT_TRUE(Value(r, "system_network_bytes_recv_total", {{"interface", "eth0"}}));
  ScratchHost host;
  host.Remove("proc/net/dev");
  NetworkCollector missing(host.paths(), config::NetworkOptions{});
  EXPECT_EQ(missing.Collect(Ctx()).status, CollectStatus::kTransient);
}

}  // namespace
}  // namespace metricsd
