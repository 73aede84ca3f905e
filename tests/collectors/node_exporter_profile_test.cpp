// The node_exporter profile's collectors on fixture trees: names, labels, units and types as
// node_exporter 1.5 writes them. The cross-check against the real node_exporter is
// tests/e2e/node_exporter_profile_test.py.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "collectors/filesystem_collector.h"
#include "collectors/node_exporter_collectors.h"
#include "collectors/pressure_collector.h"
#include "collectors/proc_stat_source.h"
#include "test_util.h"

namespace metricsd {
namespace {

using testing_util::Ctx;
using testing_util::FindFamily;
using testing_util::FixtureHost;
using testing_util::SampleCount;
using testing_util::ScratchHost;
using testing_util::Value;

Labels CpuMode(const char* cpu, const char* mode) { return {{"cpu", cpu}, {"mode", mode}}; }
Labels Device(const char* device) { return {{"device", device}}; }

MetricType TypeOf(const CollectResult& r, std::string_view name) {
  const MetricFamily* family = FindFamily(r, name);
  EXPECT_NE(family, nullptr) << name;
  return family == nullptr ? MetricType::kGauge : family->type;
}

TEST(NodeStatCollector, SystemWideLinesOfProcStat) {
  NodeStatCollector stat(std::make_shared<ProcStatSource>(FixtureHost()));
  CollectResult r = stat.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(Value(r, "node_intr_total"), 139115);
  EXPECT_EQ(Value(r, "node_context_switches_total"), 324993);
  EXPECT_EQ(Value(r, "node_forks_total"), 10776);
  EXPECT_EQ(Value(r, "node_boot_time_seconds"), 1700000000);
  EXPECT_EQ(Value(r, "node_procs_running"), 3);
  EXPECT_EQ(Value(r, "node_procs_blocked"), 1);
  EXPECT_EQ(TypeOf(r, "node_intr_total"), MetricType::kCounter);
  EXPECT_EQ(TypeOf(r, "node_boot_time_seconds"), MetricType::kGauge);
}

TEST(NodeCpuCollector, SecondsPerCpuAndModeWithGuestTime) {
  ScratchHost host;
  host.Write("proc/stat",
             "cpu  10000 200 3000 50000 400 50 60 70 8 9\n"
             "cpu0 5000 100 1500 25000 200 25 30 35 4 5\n"
             "cpu2 5000 100 1500 25000 200 25 30 35 4 4\n");
  NodeCpuCollector cpu(host.paths(), std::make_shared<ProcStatSource>(host.paths()));
  CollectResult r = cpu.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  EXPECT_EQ(Value(r, "node_cpu_seconds_total", CpuMode("0", "user")), 5000 / hz);
  EXPECT_EQ(Value(r, "node_cpu_seconds_total", CpuMode("2", "idle")), 25000 / hz);
  EXPECT_EQ(Value(r, "node_cpu_seconds_total", CpuMode("2", "steal")), 35 / hz);
  EXPECT_EQ(SampleCount(r, "node_cpu_seconds_total"), 16u);
  EXPECT_EQ(Value(r, "node_cpu_guest_seconds_total", CpuMode("0", "user")), 4 / hz);
  EXPECT_EQ(Value(r, "node_cpu_guest_seconds_total", CpuMode("0", "nice")), 5 / hz);
  EXPECT_EQ(SampleCount(r, "node_cpu_guest_seconds_total"), 4u);
  EXPECT_EQ(TypeOf(r, "node_cpu_seconds_total"), MetricType::kCounter);
}

TEST(NodeCpuCollector, ACounterThatGoesBackwardsKeepsItsValue) {
  ScratchHost host;
  host.Write("proc/stat", "cpu0 5000 100 1500 25000 200 25 30 35 0 0\n");
  NodeCpuCollector cpu(host.paths(), std::make_shared<ProcStatSource>(host.paths()));
  ASSERT_EQ(cpu.Collect(Ctx()).status, CollectStatus::kOk);
  host.Write("proc/stat", "cpu0 5100 100 1500 24990 190 25 30 35 0 0\n");
  CollectResult r = cpu.Collect(Ctx());
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  EXPECT_EQ(Value(r, "node_cpu_seconds_total", CpuMode("0", "user")), 5100 / hz);
  EXPECT_EQ(Value(r, "node_cpu_seconds_total", CpuMode("0", "idle")), 25000 / hz);
  EXPECT_EQ(Value(r, "node_cpu_seconds_total", CpuMode("0", "iowait")), 200 / hz);
}

TEST(NodeCpuCollector, IsolatedCpusAndThermalThrottlesFromSysfs) {
  ScratchHost host;
  host.Write("proc/stat",
             "cpu0 1 0 0 0 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0 0 0 0\ncpu2 1 0 0 0 0 0 0 0 0 0\n");
  const auto cpu_file = [&](int cpu, const std::string& file, const std::string& value) {
    const std::string dir = "sys/devices/system/cpu/cpu" + std::to_string(cpu);
    std::filesystem::create_directories(host.path(dir + "/topology"));
    std::filesystem::create_directories(host.path(dir + "/thermal_throttle"));
    host.Write(dir + "/" + file, value);
  };
  // cpu0 and cpu1 are two threads of core 0 of package 0; cpu2 is core 1.
  for (int cpu : {0, 1, 2}) {
    cpu_file(cpu, "topology/physical_package_id", "0\n");
    cpu_file(cpu, "topology/core_id", cpu == 2 ? "1\n" : "0\n");
    cpu_file(cpu, "thermal_throttle/package_throttle_count", "7\n");
  }
  cpu_file(0, "thermal_throttle/core_throttle_count", "3\n");
  cpu_file(1, "thermal_throttle/core_throttle_count", "99\n");
  cpu_file(2, "thermal_throttle/core_throttle_count", "5\n");
  host.Write("sys/devices/system/cpu/isolated", "1-2\n");

  NodeCpuCollector cpu(host.paths(), std::make_shared<ProcStatSource>(host.paths()));
  CollectResult r = cpu.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(Value(r, "node_cpu_core_throttles_total", {{"core", "0"}, {"package", "0"}}), 3);
  EXPECT_EQ(Value(r, "node_cpu_core_throttles_total", {{"core", "1"}, {"package", "0"}}), 5);
  EXPECT_EQ(SampleCount(r, "node_cpu_core_throttles_total"), 2u);
  EXPECT_EQ(Value(r, "node_cpu_package_throttles_total", {{"package", "0"}}), 7);
  EXPECT_EQ(SampleCount(r, "node_cpu_package_throttles_total"), 1u);
  EXPECT_EQ(Value(r, "node_cpu_isolated", {{"cpu", "2"}}), 1);
  EXPECT_EQ(SampleCount(r, "node_cpu_isolated"), 2u);

  cpu_file(2, "thermal_throttle/core_throttle_count", "6\n");
  r = cpu.Collect(Ctx());
  EXPECT_EQ(Value(r, "node_cpu_core_throttles_total", {{"core", "1"}, {"package", "0"}}), 6);
}

TEST(NodeCpuCollector, CpuListSyntax) {
  EXPECT_EQ(ParseCpuList("0-2,5,7-8\n"), (std::vector<unsigned>{0, 1, 2, 5, 7, 8}));
  EXPECT_EQ(ParseCpuList("\n"), std::vector<unsigned>{});
  EXPECT_EQ(ParseCpuList("3-1,x,4"), std::vector<unsigned>{4});
}

TEST(NodeMeminfoCollector, EveryFieldWithNodeExporterNames) {
  ScratchHost host;
  host.Write("proc/meminfo",
             "MemTotal:       16000000 kB\n"
             "Active(anon):       123 kB\n"
             "HugePages_Total:       4\n"
             "Hugepagesize:       2048 kB\n");
  NodeMeminfoCollector meminfo(host.paths());
  CollectResult r = meminfo.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(Value(r, "node_memory_MemTotal_bytes"), 16000000.0 * 1024);
  EXPECT_EQ(Value(r, "node_memory_Active_anon_bytes"), 123.0 * 1024);
  EXPECT_EQ(Value(r, "node_memory_HugePages_Total"), 4);
  EXPECT_EQ(Value(r, "node_memory_Hugepagesize_bytes"), 2048.0 * 1024);
  EXPECT_EQ(r.families.size(), 4u);
  // A field that appears later (a new kernel feature) gets its own family.
  host.Write("proc/meminfo", "MemTotal:       16000000 kB\nZswap:  8 kB\n");
  r = meminfo.Collect(Ctx());
  EXPECT_EQ(Value(r, "node_memory_Zswap_bytes"), 8.0 * 1024);
  EXPECT_EQ(FindFamily(r, "node_memory_Active_anon_bytes"), nullptr);
}

TEST(NodeLoadavgCollector, ThreeAverages) {
  NodeLoadavgCollector load(FixtureHost());
  CollectResult r = load.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(Value(r, "node_load1"), 0.25);
  EXPECT_EQ(Value(r, "node_load5"), 0.5);
  EXPECT_EQ(Value(r, "node_load15"), 1.75);
}

TEST(NodeVmstatCollector, NodeExportersDefaultFieldsOnlyUntyped) {
  EXPECT_TRUE(NodeVmstatCollector::DefaultField("pgfault"));
  EXPECT_TRUE(NodeVmstatCollector::DefaultField("pgmajfault"));
  EXPECT_TRUE(NodeVmstatCollector::DefaultField("pgpgin"));
  EXPECT_TRUE(NodeVmstatCollector::DefaultField("pswpout"));
  EXPECT_TRUE(NodeVmstatCollector::DefaultField("oom_kill"));
  EXPECT_FALSE(NodeVmstatCollector::DefaultField("nr_free_pages"));
  EXPECT_FALSE(NodeVmstatCollector::DefaultField("thp_fault_alloc"));
  EXPECT_FALSE(NodeVmstatCollector::DefaultField("pgfree"));

  ScratchHost host;
  host.Write("proc/vmstat", "nr_free_pages 100\npgpgin 7\npgfault 12345\noom_kill 1\n");
  NodeVmstatCollector vmstat(host.paths());
  CollectResult r = vmstat.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(r.families.size(), 3u);
  EXPECT_EQ(Value(r, "node_vmstat_pgfault"), 12345);
  EXPECT_EQ(Value(r, "node_vmstat_oom_kill"), 1);
  EXPECT_EQ(TypeOf(r, "node_vmstat_pgpgin"), MetricType::kUntyped);
}

TEST(NodeDiskstatsCollector, NodeExporterDefaultsUnitsAndColumnsThatExist) {
  NodeDiskstatsCollector disks(FixtureHost(), NodeExporterDiskIoOptions({}));
  CollectResult r = disks.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  // node_exporter's default leaves out partitions and loop devices, keeps dm and sr.
  EXPECT_EQ(SampleCount(r, "node_disk_info"), 4u);
  EXPECT_EQ(Value(r, "node_disk_info", {{"device", "sda"}, {"major", "8"}, {"minor", "0"}}), 1);
  EXPECT_FALSE(Value(r, "node_disk_reads_completed_total", Device("sda1")));
  EXPECT_EQ(Value(r, "node_disk_reads_completed_total", Device("sr0")), 1);
  EXPECT_EQ(Value(r, "node_disk_read_bytes_total", Device("sda")), 80000.0 * 512);
  EXPECT_EQ(Value(r, "node_disk_read_time_seconds_total", Device("sda")), 0.5);
  EXPECT_EQ(Value(r, "node_disk_io_now", Device("sda")), 2);
  EXPECT_EQ(Value(r, "node_disk_io_time_weighted_seconds_total", Device("sda")), 4);
  EXPECT_EQ(Value(r, "node_disk_discarded_sectors_total", Device("sda")), 40);
  EXPECT_EQ(Value(r, "node_disk_flush_requests_total", Device("sda")), 7);
  EXPECT_EQ(Value(r, "node_disk_flush_requests_time_seconds_total", Device("sda")), 0.008);
  EXPECT_EQ(TypeOf(r, "node_disk_io_now"), MetricType::kGauge);
  EXPECT_EQ(TypeOf(r, "node_disk_written_bytes_total"), MetricType::kCounter);
}

TEST(NodeDiskstatsCollector, OldKernelsGetOnlyTheColumnsTheyPrint) {
  ScratchHost host;
  host.Write("proc/diskstats",
             "   8       0 sda 1000 10 80000 500 2000 20 160000 1500 2 3000 4000\n");
  NodeDiskstatsCollector disks(host.paths(), NodeExporterDiskIoOptions({}));
  CollectResult r = disks.Collect(Ctx());
  EXPECT_EQ(Value(r, "node_disk_io_time_weighted_seconds_total", Device("sda")), 4);
  EXPECT_FALSE(Value(r, "node_disk_discards_completed_total", Device("sda")));
  EXPECT_FALSE(Value(r, "node_disk_flush_requests_total", Device("sda")));
}

TEST(NodeDiskstatsCollector, UdevPropertiesBecomeInfoLabelsAndFollowTheDatabase) {
  ScratchHost host;
  std::filesystem::create_directories(host.path("root/run/udev/data"));
  host.Write("root/run/udev/data/b8:0",
             "S:disk/by-id/ata-X\nE:ID_MODEL=Samsung_SSD\nE:ID_SERIAL_SHORT=S3Z\n"
             "E:ID_PATH=pci-0000:00:17.0-ata-1\nE:ID_FS_TYPE=ext4\nE:ID_FS_UUID=abcd\n"
             "E:ID_ATA=1\nE:ID_ATA_ROTATION_RATE_RPM=0\nE:ID_ATA_WRITE_CACHE=1\n");
  host.Write("root/run/udev/data/b253:0",
             "E:DM_NAME=vg-data\nE:DM_VG_NAME=vg\nE:DM_LV_NAME=data\n");
  NodeDiskstatsCollector disks(host.paths(), NodeExporterDiskIoOptions({}));
  CollectResult r = disks.Collect(Ctx());
  EXPECT_EQ(Value(r, "node_disk_info",
                  {{"device", "sda"},
                   {"major", "8"},
                   {"minor", "0"},
                   {"model", "Samsung_SSD"},
                   {"path", "pci-0000:00:17.0-ata-1"},
                   {"serial", "S3Z"}}),
            1);
  EXPECT_EQ(Value(r, "node_disk_filesystem_info",
                  {{"device", "sda"}, {"type", "ext4"}, {"uuid", "abcd"}}),
            1);
  EXPECT_EQ(
      Value(r, "node_disk_device_mapper_info",
            {{"device", "dm-0"}, {"lv_name", "data"}, {"name", "vg-data"}, {"vg_name", "vg"}}),
      1);
  EXPECT_EQ(Value(r, "node_disk_ata_rotation_rate_rpm", Device("sda")), 0);
  EXPECT_EQ(Value(r, "node_disk_ata_write_cache", Device("sda")), 1);
  EXPECT_FALSE(Value(r, "node_disk_ata_write_cache_enabled", Device("sda")));

  // udev rewrites the file (new mtime): the labels follow.
  host.Write("root/run/udev/data/b8:0", "E:ID_MODEL=Other\n");
  std::filesystem::last_write_time(
      host.path("root/run/udev/data/b8:0"),
      std::filesystem::file_time_type::clock::now() + std::chrono::seconds(5));
  r = disks.Collect(Ctx());
  EXPECT_EQ(Value(r, "node_disk_info",
                  {{"device", "sda"}, {"major", "8"}, {"minor", "0"}, {"model", "Other"}}),
            1);
  EXPECT_EQ(SampleCount(r, "node_disk_filesystem_info"), 0u);
}

TEST(NodeNetdevCollector, LegacyNamesDeviceLabelAndNohandlerFromSysfs) {
  ScratchHost host;
  std::filesystem::create_directories(host.path("sys/class/net/eth0/statistics"));
  host.Write("sys/class/net/eth0/statistics/rx_nohandler", "9\n");
  NodeNetdevCollector net(host.paths(), config::NetworkOptions{});
  CollectResult r = net.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(Value(r, "node_network_receive_bytes_total", Device("eth0")), 12345678901.0);
  EXPECT_EQ(Value(r, "node_network_receive_errs_total", Device("eth0")), 1);
  EXPECT_EQ(Value(r, "node_network_receive_drop_total", Device("eth0")), 2);
  EXPECT_EQ(Value(r, "node_network_receive_multicast_total", Device("eth0")), 3);
  EXPECT_EQ(Value(r, "node_network_transmit_errs_total", Device("eth0")), 4);
  EXPECT_EQ(Value(r, "node_network_transmit_drop_total", Device("eth0")), 5);
  EXPECT_EQ(Value(r, "node_network_receive_nohandler_total", Device("eth0")), 9);
  // No sysfs statistics for lo here: that one series is left out, not invented.
  EXPECT_FALSE(Value(r, "node_network_receive_nohandler_total", Device("lo")));
  EXPECT_EQ(SampleCount(r, "node_network_transmit_bytes_total"), 3u);

  NodeNetdevCollector filtered(host.paths(), config::NetworkOptions{.interface_exclude = "^lo$"});
  EXPECT_EQ(SampleCount(filtered.Collect(Ctx()), "node_network_transmit_bytes_total"), 2u);
}

TEST(NodeOsCollector, OsReleaseLabelsVersionAndReloadOnChange) {
  ScratchHost host;
  std::filesystem::create_directories(host.path("root/etc"));
  host.Write("root/etc/os-release",
             "PRETTY_NAME=\"Ubuntu 22.04.3 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\n"
             "ID=ubuntu\nID_LIKE=debian\n# comment\nVERSION_CODENAME=jammy\n");
  NodeOsCollector os(host.paths());
  CollectResult r = os.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(Value(r, "node_os_info",
                  {{"id", "ubuntu"},
                   {"id_like", "debian"},
                   {"name", "Ubuntu"},
                   {"pretty_name", "Ubuntu 22.04.3 LTS"},
                   {"version_codename", "jammy"},
                   {"version_id", "22.04"}}),
            1);
  EXPECT_EQ(
      Value(r, "node_os_version", {{"id", "ubuntu"}, {"id_like", "debian"}, {"name", "Ubuntu"}}),
      22.04);

  host.Write("root/etc/os-release", "NAME='Debian GNU/Linux'\nID=debian\nVERSION_ID=\"12\"\n");
  std::filesystem::last_write_time(
      host.path("root/etc/os-release"),
      std::filesystem::file_time_type::clock::now() + std::chrono::seconds(5));
  r = os.Collect(Ctx());
  EXPECT_EQ(Value(r, "node_os_version", {{"id", "debian"}, {"name", "Debian GNU/Linux"}}), 12);
}

TEST(NodeOsCollector, NoOsReleaseIsNotApplicable) {
  ScratchHost host;
  NodeOsCollector os(host.paths());
  EXPECT_EQ(os.Collect(Ctx()).status, CollectStatus::kNotApplicable);
}

TEST(NodeTimeCollector, ClockAndClockSources) {
  ScratchHost host;
  std::filesystem::create_directories(host.path("sys/devices/system/clocksource/clocksource0"));
  host.Write("sys/devices/system/clocksource/clocksource0/available_clocksource",
             "kvm-clock tsc acpi_pm \n");
  host.Write("sys/devices/system/clocksource/clocksource0/current_clocksource", "tsc\n");
  NodeTimeCollector time(host.paths());
  CollectResult r = time.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_EQ(SampleCount(r, "node_time_clocksource_available_info"), 3u);
  EXPECT_EQ(Value(r, "node_time_clocksource_available_info",
                  {{"clocksource", "acpi_pm"}, {"device", "0"}}),
            1);
  EXPECT_EQ(
      Value(r, "node_time_clocksource_current_info", {{"clocksource", "tsc"}, {"device", "0"}}), 1);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_NEAR(*Value(r, "node_time_seconds"), now, 5);
  EXPECT_EQ(SampleCount(r, "node_time_zone_offset_seconds"), 1u);
}

TEST(NodeUnameCollector, OneInfoSeriesWithTheKernelsFields) {
  NodeUnameCollector uname;
  CollectResult r = uname.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  const MetricFamily* family = FindFamily(r, "node_uname_info");
  ASSERT_NE(family, nullptr);
  ASSERT_EQ(family->samples.size(), 1u);
  bool has_sysname = false;
  for (const Label& label : family->samples[0].labels) {
    has_sysname |= label.name == "sysname" && label.value == "Linux";
  }
  EXPECT_TRUE(has_sysname);
}

TEST(PressureCollector, NodeExporterNamesWaitingAndStalled) {
  PressureCollector pressure(FixtureHost(), NameProfile::kNodeExporter);
  CollectResult r = pressure.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  EXPECT_TRUE(Value(r, "node_pressure_cpu_waiting_seconds_total"));
  EXPECT_TRUE(Value(r, "node_pressure_io_waiting_seconds_total"));
  EXPECT_TRUE(Value(r, "node_pressure_io_stalled_seconds_total"));
  EXPECT_TRUE(Value(r, "node_pressure_memory_stalled_seconds_total"));
  EXPECT_EQ(FindFamily(r, "node_pressure_cpu_stalled_seconds_total"), nullptr);
  // node_exporter's arithmetic, to the bit: 10639309 us is 10.639308999999999 divided twice
  // and 10.639309 divided once.
  ScratchHost host;
  host.Write("proc/pressure/io", "some avg10=0.00 avg60=0.00 avg300=0.00 total=10639309\n");
  r = PressureCollector(host.paths(), NameProfile::kNodeExporter).Collect(Ctx());
  EXPECT_EQ(Value(r, "node_pressure_io_waiting_seconds_total"), 10639309 / 1000.0 / 1000.0);
  EXPECT_NE(Value(r, "node_pressure_io_waiting_seconds_total"), 10639309 / 1e6);
  EXPECT_EQ(FindFamily(r, "system_pressure_cpu_some_seconds_total"), nullptr);
}

TEST(FilesystemCollector, NodeExporterProfileReportsEveryMountWithDeviceErrorAndReadonly) {
  ScratchHost host;
  host.Write("proc/1/mountinfo",
             "27 1 8:1 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
             "29 27 253:0 / /data rw,relatime shared:3 - xfs /dev/mapper/vg-data rw\n"
             "30 27 253:0 /exports /srv/exports ro,relatime shared:3 - xfs /dev/mapper/vg-data rw\n"
             "31 27 0:40 / /run rw,nosuid - tmpfs tmpfs rw,size=100k\n"
             "32 27 8:2 / /backup rw,relatime - ext4 /dev/sda2 ro\n"
             "33 27 8:3 / /broken rw,relatime - ext4 /dev/sda3 rw\n"
             "22 27 0:21 / /proc rw,relatime shared:5 - proc proc rw\n");
  const std::string root = host.paths().root;
  const FsStat stat{.block_size = 1024,
                    .io_block_size = 4096,
                    .blocks = 100,
                    .blocks_free = 40,
                    .blocks_available = 30,
                    .files = 50,
                    .files_free = 20};
  StatFsFunction statfs = [root, stat](const std::string& path) -> Result<FsStat> {
    if (path.ends_with("/broken")) {
      return Error{"statfs: input/output error"};
    }
    return stat;
  };
  FilesystemCollector fs(host.paths(), NodeExporterFilesystemOptions({}), statfs,
                         NameProfile::kNodeExporter);
  CollectResult r = fs.Collect(Ctx());
  ASSERT_EQ(r.status, CollectStatus::kOk) << r.message;
  const auto mount = [](const char* device, const char* fstype, const char* mountpoint) {
    return Labels{{"device", device}, {"fstype", fstype}, {"mountpoint", mountpoint}};
  };
  // node_exporter keeps /dev/root as the table names it, bind mounts, and tmpfs.
  EXPECT_EQ(Value(r, "node_filesystem_size_bytes", mount("/dev/root", "ext4", "/")), 100.0 * 4096);
  EXPECT_EQ(Value(r, "node_filesystem_free_bytes", mount("/dev/root", "ext4", "/")), 40.0 * 4096);
  EXPECT_EQ(Value(r, "node_filesystem_avail_bytes", mount("/dev/root", "ext4", "/")), 30.0 * 4096);
  EXPECT_EQ(Value(r, "node_filesystem_files", mount("/dev/root", "ext4", "/")), 50);
  EXPECT_EQ(Value(r, "node_filesystem_files_free", mount("/dev/root", "ext4", "/")), 20);
  EXPECT_EQ(Value(r, "node_filesystem_readonly", mount("/dev/mapper/vg-data", "xfs", "/data")), 0);
  EXPECT_EQ(
      Value(r, "node_filesystem_readonly", mount("/dev/mapper/vg-data", "xfs", "/srv/exports")), 1);
  EXPECT_EQ(Value(r, "node_filesystem_readonly", mount("/dev/sda2", "ext4", "/backup")), 1);
  EXPECT_TRUE(Value(r, "node_filesystem_size_bytes", mount("tmpfs", "tmpfs", "/run")));
  EXPECT_EQ(Value(r, "node_filesystem_device_error", mount("/dev/sda3", "ext4", "/broken")), 1);
  EXPECT_FALSE(Value(r, "node_filesystem_size_bytes", mount("/dev/sda3", "ext4", "/broken")));
  EXPECT_EQ(Value(r, "node_filesystem_device_error", mount("/dev/root", "ext4", "/")), 0);
  EXPECT_EQ(SampleCount(r, "node_filesystem_device_error"), 6u);
  EXPECT_EQ(FindFamily(r, "system_disk_total_bytes"), nullptr);
}

TEST(NodeExporterDefaults, OnlyFiltersLeftAtMetricsdsDefaultChange) {
  config::FilesystemOptions fs = NodeExporterFilesystemOptions({});
  EXPECT_EQ(fs.fstype_exclude.find("|tmpfs|"), std::string::npos);
  EXPECT_NE(config::FilesystemOptions{}.fstype_exclude.find("|tmpfs|"), std::string::npos);
  config::FilesystemOptions set;
  set.fstype_exclude = "^(tmpfs)$";
  EXPECT_EQ(NodeExporterFilesystemOptions(set).fstype_exclude, "^(tmpfs)$");
  config::DiskIoOptions disks = NodeExporterDiskIoOptions({});
  EXPECT_NE(disks.device_exclude, config::DiskIoOptions{}.device_exclude);
  config::DiskIoOptions own{.device_exclude = "^sr"};
  EXPECT_EQ(NodeExporterDiskIoOptions(own).device_exclude, "^sr");
}

}  // namespace
}  // namespace metricsd
