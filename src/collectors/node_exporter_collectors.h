// The host collectors of the node_exporter profile (collector.naming: node_exporter or both):
// node_exporter 1.5's metric names, label names, units and types, read from the same kernel
// files with the same procfs parsers as metricsd's own collectors. docs/node-exporter.md lists
// what each emits and the few intended differences.
//
// Each class is one node_exporter collector of the same name (cpu, stat, meminfo, loadavg,
// vmstat, diskstats, netdev, uname, time, os); filesystem and pressure are the profile modes of
// FilesystemCollector and PressureCollector. Values are the kernel's counters converted as
// node_exporter converts them (ticks to seconds, sectors to bytes, milliseconds to seconds),
// never recomputed. Not thread-safe: one Collect() at a time per object.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collectors/collector.h"
#include "collectors/device_table.h"
#include "collectors/proc_stat_source.h"
#include "config/options.h"
#include "core/host_paths.h"
#include "procfs/key_value_files.h"
#include "procfs/proc_diskstats.h"
#include "procfs/proc_file.h"
#include "procfs/proc_meminfo.h"
#include "procfs/proc_net_dev.h"
#include "procfs/proc_stat.h"
#include "procfs/proc_vmstat.h"

namespace metricsd {

// node_exporter 1.5's default exclusions. In the node_exporter profile a filter left at
// metricsd's default takes node_exporter's instead, so that the same mounts and devices are
// reported; one the user set applies as written.
config::FilesystemOptions NodeExporterFilesystemOptions(const config::FilesystemOptions& set);
config::DiskIoOptions NodeExporterDiskIoOptions(const config::DiskIoOptions& set);

// node_cpu_seconds_total{cpu,mode} and node_cpu_guest_seconds_total{cpu,mode}. Like
// node_exporter, a counter the kernel reports lower than before (per-CPU iowait and idle do on
// NO_HZ kernels) keeps its previous value, so the series never resets. Where sysfs has them:
// node_cpu_isolated{cpu} (HOST_SYS/devices/system/cpu/isolated, read once) and the thermal
// throttle counters node_cpu_core_throttles_total{package,core} and
// node_cpu_package_throttles_total{package}; which files to read is worked out again only when
// the set of CPUs changes.
class NodeCpuCollector final : public Collector {
 public:
  NodeCpuCollector(const HostPaths& paths, std::shared_ptr<ProcStatSource> stat);

  std::string_view name() const override { return "node_cpu"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  struct Cpu {
    int number = 0;
    procfs::CpuTimes seen;            // the highest value of each counter so far
    std::vector<Labels> mode_labels;  // {cpu, mode} per entry of kModes
  };
  struct Throttle {
    Labels labels;  // {package} or {package, core}
    std::unique_ptr<procfs::ProcFile> file;
  };
  void DiscoverThrottles();

  HostPaths paths_;
  std::shared_ptr<ProcStatSource> source_;
  double ticks_per_second_;
  procfs::ProcStat stat_;
  std::vector<Cpu> cpus_;
  std::vector<Labels> isolated_;  // {cpu} of each isolated CPU
  std::vector<Throttle> core_throttles_;
  std::vector<Throttle> package_throttles_;
};

// The CPU numbers of a sysfs CPU list ("0-3,8,10-11"); malformed parts are skipped.
std::vector<unsigned> ParseCpuList(std::string_view text);

// /proc/stat's system-wide lines: boot time, context switches, forks, interrupts, processes
// running and blocked.
class NodeStatCollector final : public Collector {
 public:
  explicit NodeStatCollector(std::shared_ptr<ProcStatSource> stat) : source_(std::move(stat)) {}

  std::string_view name() const override { return "node_stat"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  std::shared_ptr<ProcStatSource> source_;
  procfs::ProcStat stat_;
};

// Every /proc/meminfo field as node_memory_<Field>[_bytes]: "Active(anon)" becomes
// node_memory_Active_anon_bytes; fields without a kB unit (HugePages_Total) keep the count.
class NodeMeminfoCollector final : public Collector {
 public:
  explicit NodeMeminfoCollector(const HostPaths& paths);

  std::string_view name() const override { return "node_meminfo"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  procfs::ProcFile file_;
  std::vector<procfs::MeminfoField> fields_;
  std::vector<std::string> field_names_;  // the names the metric names were built for
  std::vector<std::string> metric_names_;
  std::vector<std::string> helps_;
};

// node_load1, node_load5, node_load15.
class NodeLoadavgCollector final : public Collector {
 public:
  explicit NodeLoadavgCollector(const HostPaths& paths);

  std::string_view name() const override { return "node_loadavg"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  procfs::ProcFile file_;
};

// node_vmstat_<field> (untyped) for node_exporter's default field set:
// ^(oom_kill|pgpg|pswp|pg.*fault).*
class NodeVmstatCollector final : public Collector {
 public:
  explicit NodeVmstatCollector(const HostPaths& paths);

  std::string_view name() const override { return "node_vmstat"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

  static bool DefaultField(std::string_view name) noexcept;

 private:
  procfs::ProcFile file_;
  std::vector<procfs::VmstatField> fields_;
  std::vector<std::string> field_names_;   // every field name of the file, as last seen
  std::vector<std::string> metric_names_;  // per field: empty when not reported
};

// node_disk_* from /proc/diskstats (as many counters as the kernel prints: discards from
// 4.18, flushes from 5.5), node_disk_info, and from udev's database (HOST_ROOT/run/udev/data,
// re-read when its file changes) node_disk_filesystem_info, node_disk_device_mapper_info and
// node_disk_ata_*.
class NodeDiskstatsCollector final : public Collector {
 public:
  // Throws std::invalid_argument on an invalid pattern (start-up only).
  NodeDiskstatsCollector(const HostPaths& paths, const config::DiskIoOptions& options);

  std::string_view name() const override { return "node_diskstats"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  // What udev says about one device; re-read when its database file changes.
  struct Udev {
    struct timespec mtime {};
    bool read = false;
    Labels info_labels;           // {device, major, minor, model, path, revision, serial, wwn}
    Labels filesystem_labels;     // empty: no ID_FS_TYPE
    Labels device_mapper_labels;  // empty: no DM_NAME
    std::vector<std::pair<int, double>> ata;  // index into kAtaProperties, value
  };
  void RefreshUdev(const procfs::DiskstatsLine& line, Udev& udev);

  HostPaths paths_;
  DeviceTable table_;
  std::map<std::string, Udev, std::less<>> udev_;  // by device name, reported devices only
  std::vector<procfs::DiskstatsLine> lines_;       // parsed lines of the reported devices
  std::vector<std::size_t> reported_;              // their indices in the table
};

// node_network_{receive,transmit}_*_total{device} with node_exporter's (legacy, default)
// names: the /proc/net/dev columns, plus receive_nohandler from sysfs.
class NodeNetdevCollector final : public Collector {
 public:
  // Throws std::invalid_argument on an invalid pattern (start-up only).
  NodeNetdevCollector(const HostPaths& paths, const config::NetworkOptions& options);

  std::string_view name() const override { return "node_netdev"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  HostPaths paths_;
  DeviceTable table_;
  // statistics/rx_nohandler of each reported interface, kept open.
  std::map<std::string, procfs::ProcFile, std::less<>> nohandler_files_;
  std::vector<procfs::NetDevStats> stats_;
  std::vector<double> nohandler_;  // per reported interface; NaN: unreadable
  std::vector<std::size_t> reported_;
};

// node_uname_info{domainname,machine,nodename,release,sysname,version} from uname(2).
class NodeUnameCollector final : public Collector {
 public:
  std::string_view name() const override { return "node_uname"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  std::string last_;  // the uname fields the labels were built from
  Labels labels_;
};

// node_time_seconds, node_time_zone_offset_seconds{time_zone} and the clock sources of
// HOST_SYS/devices/system/clocksource.
class NodeTimeCollector final : public Collector {
 public:
  explicit NodeTimeCollector(const HostPaths& paths);

  std::string_view name() const override { return "node_time"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  struct ClockSource {
    std::string device;  // node_exporter's index of the directory
    std::unique_ptr<procfs::ProcFile> available;
    std::unique_ptr<procfs::ProcFile> current;
  };
  HostPaths paths_;
  bool discovered_ = false;
  std::vector<ClockSource> sources_;
};

// node_os_info and node_os_version from HOST_ROOT/etc/os-release (or usr/lib/os-release),
// parsed again only when the file changes.
class NodeOsCollector final : public Collector {
 public:
  explicit NodeOsCollector(const HostPaths& paths);

  std::string_view name() const override { return "node_os"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  std::vector<std::string> candidates_;
  std::string path_;  // the file the labels came from
  struct timespec mtime_ {};
  Labels info_labels_;
  Labels version_labels_;
  double version_ = 0;
};

}  // namespace metricsd
