#include "collectors/node_exporter_collectors.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <set>
#include <utility>

#include "procfs/proc_loadavg.h"
#include "procfs/text.h"

namespace metricsd {

namespace {

constexpr std::string_view kUpstreamFstypeExclude =
    "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"
    "iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|"
    "sysfs|tracefs)$";
constexpr std::string_view kUpstreamMountpointExclude =
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
constexpr std::string_view kUpstreamDiskExclude =
    "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$";

// A label set from name/value pairs: sorted, and without empty values (which mean "no label"
// in Prometheus' data model and are refused by remote write receivers).
Labels MakeLabels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  Labels out;
  out.reserve(pairs.size());
  for (const auto& [name, value] : pairs) {
    if (!value.empty()) {
      out.push_back(Label{std::string(name), std::string(value)});
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

double TicksPerSecond() {
  const long hz = ::sysconf(_SC_CLK_TCK);
  return static_cast<double>(hz > 0 ? hz : 100);
}

// A sysfs attribute holding one number ("9\n").
bool ParseNumberFile(std::string_view text, std::uint64_t& out) {
  while (!text.empty() && (text.back() == '\n' || procfs::IsBlank(text.back()))) {
    text.remove_suffix(1);
  }
  return procfs::ParseU64(text, out);
}

bool SameTime(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

constexpr std::pair<std::string_view, std::uint64_t procfs::CpuTimes::*> kCpuModes[] = {
    {"idle", &procfs::CpuTimes::idle},       {"iowait", &procfs::CpuTimes::iowait},
    {"irq", &procfs::CpuTimes::irq},         {"nice", &procfs::CpuTimes::nice},
    {"softirq", &procfs::CpuTimes::softirq}, {"steal", &procfs::CpuTimes::steal},
    {"system", &procfs::CpuTimes::system},   {"user", &procfs::CpuTimes::user},
};
constexpr std::pair<std::string_view, std::uint64_t procfs::CpuTimes::*> kGuestModes[] = {
    {"nice", &procfs::CpuTimes::guest_nice},
    {"user", &procfs::CpuTimes::guest},
};

}  // namespace

config::FilesystemOptions NodeExporterFilesystemOptions(const config::FilesystemOptions& set) {
  const config::FilesystemOptions native;
  config::FilesystemOptions out = set;
  if (out.fstype_exclude == native.fstype_exclude) {
    out.fstype_exclude = kUpstreamFstypeExclude;
  }
  if (out.mountpoint_exclude == native.mountpoint_exclude) {
    out.mountpoint_exclude = kUpstreamMountpointExclude;
  }
  return out;
}

config::DiskIoOptions NodeExporterDiskIoOptions(const config::DiskIoOptions& set) {
  const config::DiskIoOptions native;
  config::DiskIoOptions out = set;
  if (out.device_exclude == native.device_exclude) {
    out.device_exclude = kUpstreamDiskExclude;
  }
  return out;
}

// ---- cpu ----

std::vector<unsigned> ParseCpuList(std::string_view text) {
  std::vector<unsigned> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
    while (!part.empty() && (part.back() == '\n' || procfs::IsBlank(part.back()))) {
      part.remove_suffix(1);
    }
    const std::size_t dash = part.find('-');
    std::uint32_t first = 0;
    std::uint32_t last = 0;
    if (dash == std::string_view::npos) {
      if (procfs::ParseU32(part, first)) {
        out.push_back(first);
      }
    } else if (procfs::ParseU32(part.substr(0, dash), first) &&
               procfs::ParseU32(part.substr(dash + 1), last) && first <= last &&
               last - first < 65536) {
      for (std::uint32_t cpu = first; cpu <= last; ++cpu) {
        out.push_back(cpu);
      }
    }
  }
  return out;
}

NodeCpuCollector::NodeCpuCollector(const HostPaths& paths, std::shared_ptr<ProcStatSource> stat)
    : paths_(paths), source_(std::move(stat)), ticks_per_second_(TicksPerSecond()) {
  procfs::ProcFile isolated(paths.Sys("devices/system/cpu/isolated"), 256,
                            procfs::ProcFile::ReadMode::kUntilEof);
  if (auto text = isolated.Read(); text.ok()) {
    for (unsigned cpu : ParseCpuList(*text)) {
      isolated_.push_back(MakeLabels({{"cpu", std::to_string(cpu)}}));
    }
  }
}

void NodeCpuCollector::DiscoverThrottles() {
  core_throttles_.clear();
  package_throttles_.clear();
  const auto read_number = [](const std::string& path, std::uint64_t& out) {
    procfs::ProcFile file(path, 64, procfs::ProcFile::ReadMode::kSingleShot);
    auto text = file.Read();
    return text.ok() && ParseNumberFile(*text, out);
  };
  std::set<std::uint64_t> packages;
  std::set<std::pair<std::uint64_t, std::uint64_t>> cores;
  for (const Cpu& cpu : cpus_) {
    const std::string dir = paths_.Sys("devices/system/cpu/cpu" + std::to_string(cpu.number));
    std::uint64_t package = 0;
    std::uint64_t core = 0;
    if (!read_number(dir + "/topology/physical_package_id", package) ||
        !read_number(dir + "/topology/core_id", core)) {
      continue;
    }
    // The first CPU of each core and of each package stands for it, as in node_exporter.
    const std::string core_file = dir + "/thermal_throttle/core_throttle_count";
    if (std::uint64_t probe = 0;
        !cores.contains({package, core}) && read_number(core_file, probe)) {
      cores.insert({package, core});
      core_throttles_.push_back(Throttle{
          MakeLabels({{"package", std::to_string(package)}, {"core", std::to_string(core)}}),
          std::make_unique<procfs::ProcFile>(core_file, 64,
                                             procfs::ProcFile::ReadMode::kSingleShot)});
    }
    const std::string package_file = dir + "/thermal_throttle/package_throttle_count";
    if (std::uint64_t probe = 0; !packages.contains(package) && read_number(package_file, probe)) {
      packages.insert(package);
      package_throttles_.push_back(
          Throttle{MakeLabels({{"package", std::to_string(package)}}),
                   std::make_unique<procfs::ProcFile>(package_file, 64,
                                                      procfs::ProcFile::ReadMode::kSingleShot)});
    }
  }
}

CollectResult NodeCpuCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void NodeCpuCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  if (Status status = source_->Get(ctx.steady_now, stat_); !status.ok()) {
    result = CollectResult::Transient(status.error());
    return;
  }
  if (stat_.cpus.empty()) {
    result = CollectResult::Transient("/proc/stat: no per-CPU lines");
    return;
  }
  bool same = cpus_.size() == stat_.cpus.size();
  for (std::size_t i = 0; same && i < cpus_.size(); ++i) {
    same = cpus_[i].number == stat_.cpus[i].cpu;
  }
  if (!same) {
    // A CPU came or went: start over, as node_exporter does.
    cpus_.clear();
    for (const procfs::CpuStat& cpu : stat_.cpus) {
      Cpu entry;
      entry.number = cpu.cpu;
      const std::string number = std::to_string(cpu.cpu);
      for (const auto& [mode, member] : kCpuModes) {
        entry.mode_labels.push_back(MakeLabels({{"cpu", number}, {"mode", mode}}));
      }
      for (const auto& [mode, member] : kGuestModes) {
        entry.mode_labels.push_back(MakeLabels({{"cpu", number}, {"mode", mode}}));
      }
      entry.seen = cpu.times;
      cpus_.push_back(std::move(entry));
    }
    DiscoverThrottles();
  }
  for (std::size_t i = 0; i < cpus_.size(); ++i) {
    procfs::CpuTimes& seen = cpus_[i].seen;
    const procfs::CpuTimes& now = stat_.cpus[i].times;
    for (const auto& [mode, member] : kCpuModes) {
      seen.*member = std::max(seen.*member, now.*member);
    }
    for (const auto& [mode, member] : kGuestModes) {
      seen.*member = std::max(seen.*member, now.*member);
    }
  }

  FamilyWriter out(result.families, ctx.wall_ms);
  out.Family("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.",
             MetricType::kCounter);
  for (const Cpu& cpu : cpus_) {
    for (std::size_t m = 0; m < std::size(kCpuModes); ++m) {
      out.Add(static_cast<double>(cpu.seen.*kCpuModes[m].second) / ticks_per_second_,
              cpu.mode_labels[m]);
    }
  }
  out.Family("node_cpu_guest_seconds_total",
             "Seconds the CPUs spent in guests (VMs) for each mode.", MetricType::kCounter);
  for (const Cpu& cpu : cpus_) {
    for (std::size_t m = 0; m < std::size(kGuestModes); ++m) {
      out.Add(static_cast<double>(cpu.seen.*kGuestModes[m].second) / ticks_per_second_,
              cpu.mode_labels[std::size(kCpuModes) + m]);
    }
  }
  if (!isolated_.empty()) {
    out.Family("node_cpu_isolated",
               "Whether each core is isolated, information from "
               "/sys/devices/system/cpu/isolated.",
               MetricType::kGauge);
    for (const Labels& labels : isolated_) {
      out.Add(1, labels);
    }
  }
  const auto throttles = [&](std::vector<Throttle>& list, std::string_view name,
                             std::string_view help) {
    if (list.empty()) {
      return;
    }
    out.Family(name, help, MetricType::kCounter);
    for (Throttle& t : list) {
      if (auto text = t.file->Read(); text.ok()) {
        std::uint64_t count = 0;
        if (ParseNumberFile(*text, count)) {
          out.Add(static_cast<double>(count), t.labels);
        }
      }
    }
  };
  throttles(core_throttles_, "node_cpu_core_throttles_total",
            "Number of times this CPU core has been throttled.");
  throttles(package_throttles_, "node_cpu_package_throttles_total",
            "Number of times this CPU package has been throttled.");
  out.Finish();
}

// ---- stat ----

CollectResult NodeStatCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void NodeStatCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  if (Status status = source_->Get(ctx.steady_now, stat_); !status.ok()) {
    result = CollectResult::Transient(status.error());
    return;
  }
  const auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  FamilyWriter out(result.families, ctx.wall_ms);
  out.Family("node_intr_total", "Total number of interrupts serviced.", MetricType::kCounter)
      .Add(d(stat_.interrupts));
  out.Family("node_context_switches_total", "Total number of context switches.",
             MetricType::kCounter)
      .Add(d(stat_.context_switches));
  out.Family("node_forks_total", "Total number of forks.", MetricType::kCounter)
      .Add(d(stat_.forks));
  if (stat_.has_boot_time) {
    out.Family("node_boot_time_seconds", "Node boot time, in unixtime.", MetricType::kGauge)
        .Add(d(stat_.boot_time));
  }
  out.Family("node_procs_running", "Number of processes in runnable state.", MetricType::kGauge)
      .Add(d(stat_.procs_running));
  out.Family("node_procs_blocked", "Number of processes blocked waiting for I/O to complete.",
             MetricType::kGauge)
      .Add(d(stat_.procs_blocked));
  out.Finish();
}

// ---- meminfo ----

NodeMeminfoCollector::NodeMeminfoCollector(const HostPaths& paths)
    : file_(paths.Proc("meminfo"), 8 * 1024, procfs::ProcFile::ReadMode::kSingleShot) {}

CollectResult NodeMeminfoCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void NodeMeminfoCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  auto text = file_.Read();
  if (!text.ok()) {
    result = CollectResult::Transient(text.error());
    return;
  }
  procfs::ParseMeminfoFields(*text, fields_);
  if (fields_.empty()) {
    result = CollectResult::Transient(file_.path() + ": no fields");
    return;
  }
  bool same = field_names_.size() == fields_.size();
  for (std::size_t i = 0; same && i < fields_.size(); ++i) {
    same = field_names_[i] == fields_[i].name;
  }
  if (!same) {
    field_names_.clear();
    metric_names_.clear();
    helps_.clear();
    for (const procfs::MeminfoField& field : fields_) {
      std::string key;
      for (char c : field.name) {
        if (c == '(') {
          key.push_back('_');
        } else if (c != ')') {
          key.push_back(c);
        }
      }
      field_names_.emplace_back(field.name);
      metric_names_.push_back("node_memory_" + key + (field.in_kb ? "_bytes" : ""));
      helps_.push_back("Memory information field " + key + (field.in_kb ? "_bytes." : "."));
    }
  }
  FamilyWriter out(result.families, ctx.wall_ms);
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    out.Family(metric_names_[i], helps_[i], MetricType::kGauge)
        .Add(static_cast<double>(fields_[i].value));
  }
  out.Finish();
}

// ---- loadavg ----

NodeLoadavgCollector::NodeLoadavgCollector(const HostPaths& paths)
    : file_(paths.Proc("loadavg"), 256, procfs::ProcFile::ReadMode::kSingleShot) {}

CollectResult NodeLoadavgCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void NodeLoadavgCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  auto text = file_.Read();
  procfs::LoadAvg load;
  if (!text.ok() || !procfs::ParseLoadAvg(*text, load)) {
    result = CollectResult::Transient(text.ok() ? file_.path() + ": unparsable" : text.error());
    return;
  }
  FamilyWriter out(result.families, ctx.wall_ms);
  out.Family("node_load1", "1m load average.", MetricType::kGauge).Add(load.load1);
  out.Family("node_load5", "5m load average.", MetricType::kGauge).Add(load.load5);
  out.Family("node_load15", "15m load average.", MetricType::kGauge).Add(load.load15);
  out.Finish();
}

// ---- vmstat ----

NodeVmstatCollector::NodeVmstatCollector(const HostPaths& paths)
    : file_(paths.Proc("vmstat"), 8 * 1024) {}

bool NodeVmstatCollector::DefaultField(std::string_view name) noexcept {
  // ^(oom_kill|pgpg|pswp|pg.*fault).*
  if (name.starts_with("oom_kill") || name.starts_with("pgpg") || name.starts_with("pswp")) {
    return true;
  }
  return name.starts_with("pg") && name.find("fault", 2) != std::string_view::npos;
}

CollectResult NodeVmstatCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void NodeVmstatCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  auto text = file_.Read();
  if (!text.ok()) {
    result = CollectResult::Transient(text.error());
    return;
  }
  procfs::ParseVmstat(*text, fields_);
  bool same = field_names_.size() == fields_.size();
  for (std::size_t i = 0; same && i < fields_.size(); ++i) {
    same = field_names_[i] == fields_[i].name;
  }
  if (!same) {
    field_names_.clear();
    metric_names_.clear();
    for (const procfs::VmstatField& field : fields_) {
      field_names_.emplace_back(field.name);
      metric_names_.push_back(DefaultField(field.name) ? "node_vmstat_" + std::string(field.name)
                                                       : std::string());
    }
  }
  FamilyWriter out(result.families, ctx.wall_ms);
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    if (!metric_names_[i].empty()) {
      out.Family(metric_names_[i], "/proc/vmstat information field.", MetricType::kUntyped)
          .Add(static_cast<double>(fields_[i].value));
    }
  }
  out.Finish();
}

// ---- diskstats ----

namespace {

struct DiskCounter {
  std::string_view name;
  std::string_view help;
  MetricType type;
};

// In diskstats' column order; a kernel that prints fewer columns gets the first ones.
constexpr DiskCounter kDiskCounters[] = {
    {"node_disk_reads_completed_total", "The total number of reads completed successfully.",
     MetricType::kCounter},
    {"node_disk_reads_merged_total", "The total number of reads merged.", MetricType::kCounter},
    {"node_disk_read_bytes_total", "The total number of bytes read successfully.",
     MetricType::kCounter},
    {"node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.",
     MetricType::kCounter},
    {"node_disk_writes_completed_total", "The total number of writes completed successfully.",
     MetricType::kCounter},
    {"node_disk_writes_merged_total", "The number of writes merged.", MetricType::kCounter},
    {"node_disk_written_bytes_total", "The total number of bytes written successfully.",
     MetricType::kCounter},
    {"node_disk_write_time_seconds_total",
     "This is the total number of seconds spent by all "
     "writes.",
     MetricType::kCounter},
    {"node_disk_io_now", "The number of I/Os currently in progress.", MetricType::kGauge},
    {"node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", MetricType::kCounter},
    {"node_disk_io_time_weighted_seconds_total", "The weighted number of seconds spent doing I/Os.",
     MetricType::kCounter},
    {"node_disk_discards_completed_total", "The total number of discards completed successfully.",
     MetricType::kCounter},
    {"node_disk_discards_merged_total", "The total number of discards merged.",
     MetricType::kCounter},
    {"node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.",
     MetricType::kCounter},
    {"node_disk_discard_time_seconds_total",
     "This is the total number of seconds spent by all "
     "discards.",
     MetricType::kCounter},
    {"node_disk_flush_requests_total",
     "The total number of flush requests completed "
     "successfully",
     MetricType::kCounter},
    {"node_disk_flush_requests_time_seconds_total",
     "This is the total number of seconds spent by all flush requests.", MetricType::kCounter},
};

double DiskCounterValue(const procfs::DiskStats& s, std::size_t i) {
  const auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  const double sector = static_cast<double>(procfs::kDiskstatsSectorBytes);
  switch (i) {
    case 0:
      return d(s.reads_completed);
    case 1:
      return d(s.reads_merged);
    case 2:
      return d(s.sectors_read) * sector;
    case 3:
      return d(s.read_time_ms) * 0.001;
    case 4:
      return d(s.writes_completed);
    case 5:
      return d(s.writes_merged);
    case 6:
      return d(s.sectors_written) * sector;
    case 7:
      return d(s.write_time_ms) * 0.001;
    case 8:
      return d(s.ios_in_progress);
    case 9:
      return d(s.io_time_ms) * 0.001;
    case 10:
      return d(s.weighted_io_time_ms) * 0.001;
    case 11:
      return d(s.discards_completed);
    case 12:
      return d(s.discards_merged);
    case 13:
      return d(s.sectors_discarded);
    case 14:
      return d(s.discard_time_ms) * 0.001;
    case 15:
      return d(s.flushes_completed);
    default:
      return d(s.flush_time_ms) * 0.001;
  }
}

struct AtaProperty {
  std::string_view udev_key;
  std::string_view metric;
  std::string_view help;
};
constexpr AtaProperty kAtaProperties[] = {
    {"ID_ATA_WRITE_CACHE", "node_disk_ata_write_cache", "ATA disk has a write cache."},
    {"ID_ATA_WRITE_CACHE_ENABLED", "node_disk_ata_write_cache_enabled",
     "ATA disk has its write cache enabled."},
    {"ID_ATA_ROTATION_RATE_RPM", "node_disk_ata_rotation_rate_rpm",
     "ATA disk rotation rate in RPMs (0 for SSDs)."},
};

std::string_view Get(const procfs::KeyValues& kv, std::string_view key) {
  auto it = kv.find(key);
  return it == kv.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace

NodeDiskstatsCollector::NodeDiskstatsCollector(const HostPaths& paths,
                                               const config::DiskIoOptions& options)
    : paths_(paths),
      table_(paths.Proc("diskstats"), options.device_include, options.device_exclude, "device",
             SplitDiskstats) {}

CollectResult NodeDiskstatsCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void NodeDiskstatsCollector::RefreshUdev(const procfs::DiskstatsLine& line, Udev& udev) {
  const std::string path = paths_.Root("/run/udev/data/b" + std::to_string(line.major) + ":" +
                                       std::to_string(line.minor));
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (udev.read && exists && SameTime(st.st_mtim, udev.mtime)) {
    return;
  }
  procfs::KeyValues kv;
  if (exists) {
    procfs::ProcFile file(path, 4096, procfs::ProcFile::ReadMode::kUntilEof);
    if (auto text = file.Read(); text.ok()) {
      kv = procfs::ParseUdevProperties(*text);
    }
    udev.mtime = st.st_mtim;
  }
  udev.read = exists;
  const std::string major = std::to_string(line.major);
  const std::string minor = std::to_string(line.minor);
  const std::string_view device = line.name;
  udev.info_labels = MakeLabels({{"device", device},
                                 {"major", major},
                                 {"minor", minor},
                                 {"path", Get(kv, "ID_PATH")},
                                 {"wwn", Get(kv, "ID_WWN")},
                                 {"model", Get(kv, "ID_MODEL")},
                                 {"serial", Get(kv, "ID_SERIAL_SHORT")},
                                 {"revision", Get(kv, "ID_REVISION")}});
  udev.filesystem_labels.clear();
  if (!Get(kv, "ID_FS_TYPE").empty()) {
    udev.filesystem_labels = MakeLabels({{"device", device},
                                         {"type", Get(kv, "ID_FS_TYPE")},
                                         {"usage", Get(kv, "ID_FS_USAGE")},
                                         {"uuid", Get(kv, "ID_FS_UUID")},
                                         {"version", Get(kv, "ID_FS_VERSION")}});
  }
  udev.device_mapper_labels.clear();
  if (!Get(kv, "DM_NAME").empty()) {
    udev.device_mapper_labels = MakeLabels({{"device", device},
                                            {"name", Get(kv, "DM_NAME")},
                                            {"uuid", Get(kv, "DM_UUID")},
                                            {"vg_name", Get(kv, "DM_VG_NAME")},
                                            {"lv_name", Get(kv, "DM_LV_NAME")},
                                            {"lv_layer", Get(kv, "DM_LV_LAYER")}});
  }
  udev.ata.clear();
  if (!Get(kv, "ID_ATA").empty()) {
    for (std::size_t i = 0; i < std::size(kAtaProperties); ++i) {
      double value = 0;
      if (procfs::ParseDouble(Get(kv, kAtaProperties[i].udev_key), value)) {
        udev.ata.emplace_back(static_cast<int>(i), value);
      }
    }
  }
}

void NodeDiskstatsCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  if (Status status = table_.Read(); !status.ok()) {
    result = CollectResult::Transient(status.error());
    return;
  }
  const std::vector<FilteredName>& devices = table_.devices();
  if (table_.names_changed()) {
    for (auto it = udev_.begin(); it != udev_.end();) {
      const bool present = std::any_of(devices.begin(), devices.end(), [&](const auto& d) {
        return d.included && d.name == it->first;
      });
      it = present ? std::next(it) : udev_.erase(it);
    }
  }
  lines_.clear();
  reported_.clear();
  for (std::size_t i = 0; i < devices.size(); ++i) {
    procfs::DiskstatsLine line;
    if (devices[i].included && procfs::ParseDiskstatsLine(table_.line(i), line)) {
      RefreshUdev(line, udev_[devices[i].name]);
      lines_.push_back(line);
      reported_.push_back(i);
    }
  }

  FamilyWriter out(result.families, ctx.wall_ms);
  out.Family("node_disk_info", "Info of /sys/block/<block_device>.", MetricType::kGauge);
  for (std::size_t i : reported_) {
    out.Add(1, udev_.find(devices[i].name)->second.info_labels);
  }
  for (std::size_t c = 0; c < std::size(kDiskCounters); ++c) {
    out.Family(kDiskCounters[c].name, kDiskCounters[c].help, kDiskCounters[c].type);
    for (std::size_t r = 0; r < reported_.size(); ++r) {
      // field_count includes major, minor and the name.
      if (static_cast<std::size_t>(lines_[r].field_count) >= c + 4) {
        out.Add(DiskCounterValue(lines_[r].stats, c), devices[reported_[r]].labels);
      }
    }
  }
  out.Family("node_disk_filesystem_info", "Info about disk filesystem.", MetricType::kGauge);
  for (std::size_t i : reported_) {
    if (const Labels& l = udev_.find(devices[i].name)->second.filesystem_labels; !l.empty()) {
      out.Add(1, l);
    }
  }
  out.Family("node_disk_device_mapper_info", "Info about disk device mapper.", MetricType::kGauge);
  for (std::size_t i : reported_) {
    if (const Labels& l = udev_.find(devices[i].name)->second.device_mapper_labels; !l.empty()) {
      out.Add(1, l);
    }
  }
  for (std::size_t a = 0; a < std::size(kAtaProperties); ++a) {
    out.Family(kAtaProperties[a].metric, kAtaProperties[a].help, MetricType::kGauge);
    for (std::size_t i : reported_) {
      for (const auto& [index, value] : udev_.find(devices[i].name)->second.ata) {
        if (static_cast<std::size_t>(index) == a) {
          out.Add(value, devices[i].labels);
        }
      }
    }
  }
  out.Finish();
}

// ---- netdev ----

NodeNetdevCollector::NodeNetdevCollector(const HostPaths& paths,
                                         const config::NetworkOptions& options)
    : paths_(paths),
      table_(paths.Proc("net/dev"), options.interface_include, options.interface_exclude, "device",
             SplitNetDev) {}

CollectResult NodeNetdevCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void NodeNetdevCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  if (Status status = table_.Read(); !status.ok()) {
    result = CollectResult::Transient(status.error());
    return;
  }
  const std::vector<FilteredName>& interfaces = table_.devices();
  if (table_.names_changed()) {
    std::map<std::string, procfs::ProcFile, std::less<>> kept;
    for (const FilteredName& name : interfaces) {
      if (!name.included) {
        continue;
      }
      if (auto it = nohandler_files_.find(name.name); it != nohandler_files_.end()) {
        kept.emplace(name.name, std::move(it->second));
      } else {
        kept.emplace(name.name, procfs::ProcFile(paths_.Sys("class/net/" + name.name +
                                                            "/statistics/rx_nohandler"),
                                                 64, procfs::ProcFile::ReadMode::kSingleShot));
      }
    }
    nohandler_files_ = std::move(kept);
  }
  stats_.clear();
  nohandler_.clear();
  reported_.clear();
  for (std::size_t i = 0; i < interfaces.size(); ++i) {
    procfs::NetDevLine line;
    if (!interfaces[i].included || !procfs::ParseNetDevCounters(table_.counters(i), line)) {
      continue;
    }
    stats_.push_back(line.stats);
    reported_.push_back(i);
    double nohandler = std::numeric_limits<double>::quiet_NaN();
    if (auto it = nohandler_files_.find(interfaces[i].name); it != nohandler_files_.end()) {
      if (auto value = it->second.Read(); value.ok()) {
        std::uint64_t n = 0;
        if (ParseNumberFile(*value, n)) {
          nohandler = static_cast<double>(n);
        }
      }
    }
    nohandler_.push_back(nohandler);
  }

  FamilyWriter out(result.families, ctx.wall_ms);
  const auto counter = [&](std::string_view name, std::string_view help,
                           std::uint64_t procfs::NetDevStats::*field) {
    out.Family(name, help, MetricType::kCounter);
    for (std::size_t i = 0; i < stats_.size(); ++i) {
      out.Add(static_cast<double>(stats_[i].*field), interfaces[reported_[i]].labels);
    }
  };
  using procfs::NetDevStats;
  counter("node_network_receive_bytes_total", "Network device statistic receive_bytes.",
          &NetDevStats::rx_bytes);
  counter("node_network_receive_packets_total", "Network device statistic receive_packets.",
          &NetDevStats::rx_packets);
  counter("node_network_receive_errs_total", "Network device statistic receive_errs.",
          &NetDevStats::rx_errors);
  counter("node_network_receive_drop_total", "Network device statistic receive_drop.",
          &NetDevStats::rx_dropped);
  counter("node_network_receive_fifo_total", "Network device statistic receive_fifo.",
          &NetDevStats::rx_fifo);
  counter("node_network_receive_frame_total", "Network device statistic receive_frame.",
          &NetDevStats::rx_frame);
  counter("node_network_receive_compressed_total", "Network device statistic receive_compressed.",
          &NetDevStats::rx_compressed);
  counter("node_network_receive_multicast_total", "Network device statistic receive_multicast.",
          &NetDevStats::rx_multicast);
  out.Family("node_network_receive_nohandler_total", "Network device statistic receive_nohandler.",
             MetricType::kCounter);
  for (std::size_t i = 0; i < stats_.size(); ++i) {
    if (!std::isnan(nohandler_[i])) {
      out.Add(nohandler_[i], interfaces[reported_[i]].labels);
    }
  }
  counter("node_network_transmit_bytes_total", "Network device statistic transmit_bytes.",
          &NetDevStats::tx_bytes);
  counter("node_network_transmit_packets_total", "Network device statistic transmit_packets.",
          &NetDevStats::tx_packets);
  counter("node_network_transmit_errs_total", "Network device statistic transmit_errs.",
          &NetDevStats::tx_errors);
  counter("node_network_transmit_drop_total", "Network device statistic transmit_drop.",
          &NetDevStats::tx_dropped);
  counter("node_network_transmit_fifo_total", "Network device statistic transmit_fifo.",
          &NetDevStats::tx_fifo);
  counter("node_network_transmit_colls_total", "Network device statistic transmit_colls.",
          &NetDevStats::tx_collisions);
  counter("node_network_transmit_carrier_total", "Network device statistic transmit_carrier.",
          &NetDevStats::tx_carrier);
  counter("node_network_transmit_compressed_total", "Network device statistic transmit_compressed.",
          &NetDevStats::tx_compressed);
  out.Finish();
}

// ---- uname ----

CollectResult NodeUnameCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void NodeUnameCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  struct utsname u {};
  if (::uname(&u) != 0) {
    result = CollectResult::Transient("uname failed");
    return;
  }
  std::string key;
  for (const char* field : {u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname}) {
    key += field;
    key.push_back('\0');
  }
  if (key != last_) {
    last_ = std::move(key);
    labels_ = MakeLabels({{"sysname", u.sysname},
                          {"nodename", u.nodename},
                          {"release", u.release},
                          {"version", u.version},
                          {"machine", u.machine},
                          {"domainname", u.domainname}});
  }
  FamilyWriter out(result.families, ctx.wall_ms);
  out.Family("node_uname_info", "Labeled system information as provided by the uname system call.",
             MetricType::kGauge)
      .Add(1, labels_);
  out.Finish();
}

// ---- time ----

NodeTimeCollector::NodeTimeCollector(const HostPaths& paths) : paths_(paths) {}

CollectResult NodeTimeCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void NodeTimeCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  if (!discovered_) {
    // node_exporter numbers the clocksource directories in the order a glob lists them.
    discovered_ = true;
    const std::string dir = paths_.Sys("devices/system/clocksource");
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
      while (const dirent* entry = ::readdir(d)) {
        std::string_view name = entry->d_name;
        if (name.starts_with("clocksource") && name.size() > 11 &&
            std::all_of(name.begin() + 11, name.end(),
                        [](char c) { return c >= '0' && c <= '9'; })) {
          names.emplace_back(name);
        }
      }
      ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (std::size_t i = 0; i < names.size(); ++i) {
      sources_.push_back(ClockSource{
          std::to_string(i),
          std::make_unique<procfs::ProcFile>(dir + "/" + names[i] + "/available_clocksource", 256,
                                             procfs::ProcFile::ReadMode::kSingleShot),
          std::make_unique<procfs::ProcFile>(dir + "/" + names[i] + "/current_clocksource", 256,
                                             procfs::ProcFile::ReadMode::kSingleShot)});
    }
  }
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  struct tm local {};
  ::localtime_r(&now.tv_sec, &local);

  FamilyWriter out(result.families, ctx.wall_ms);
  out.Family("node_time_seconds", "System time in seconds since epoch (1970).", MetricType::kGauge)
      .Add(static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9);
  out.Family("node_time_zone_offset_seconds", "System time zone offset in seconds.",
             MetricType::kGauge)
      .Add(static_cast<double>(local.tm_gmtoff),
           MakeLabels({{"time_zone", local.tm_zone != nullptr ? local.tm_zone : ""}}));
  out.Family("node_time_clocksource_available_info",
             "Available clocksources read from '/sys/devices/system/clocksource'.",
             MetricType::kGauge);
  for (ClockSource& source : sources_) {
    if (auto text = source.available->Read(); text.ok()) {
      std::string_view rest = *text;
      for (std::string_view name = procfs::NextField(rest); !name.empty();
           name = procfs::NextField(rest)) {
        if (name.back() == '\n') {
          name.remove_suffix(1);
        }
        if (!name.empty()) {
          out.Add(1, MakeLabels({{"clocksource", name}, {"device", source.device}}));
        }
      }
    }
  }
  out.Family("node_time_clocksource_current_info",
             "Current clocksource read from '/sys/devices/system/clocksource'.",
             MetricType::kGauge);
  for (ClockSource& source : sources_) {
    if (auto text = source.current->Read(); text.ok()) {
      std::string_view rest = *text;
      std::string_view name = procfs::NextLine(rest);
      if (!name.empty()) {
        out.Add(1, MakeLabels({{"clocksource", name}, {"device", source.device}}));
      }
    }
  }
  out.Finish();
}

// ---- os ----

NodeOsCollector::NodeOsCollector(const HostPaths& paths)
    : candidates_{paths.Root("/etc/os-release"), paths.Root("/usr/lib/os-release")} {}

CollectResult NodeOsCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void NodeOsCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  const std::string* found = nullptr;
  struct stat st {};
  for (const std::string& candidate : candidates_) {
    if (::stat(candidate.c_str(), &st) == 0) {
      found = &candidate;
      break;
    }
  }
  if (found == nullptr) {
    result = CollectResult::NotApplicable("no os-release file");
    return;
  }
  if (*found != path_ || !SameTime(st.st_mtim, mtime_)) {
    procfs::ProcFile file(*found, 4096, procfs::ProcFile::ReadMode::kUntilEof);
    auto text = file.Read();
    if (!text.ok()) {
      result = CollectResult::Transient(text.error());
      return;
    }
    const procfs::KeyValues kv = procfs::ParseOsRelease(*text);
    path_ = *found;
    mtime_ = st.st_mtim;
    info_labels_ = MakeLabels({{"build_id", Get(kv, "BUILD_ID")},
                               {"id", Get(kv, "ID")},
                               {"id_like", Get(kv, "ID_LIKE")},
                               {"image_id", Get(kv, "IMAGE_ID")},
                               {"image_version", Get(kv, "IMAGE_VERSION")},
                               {"name", Get(kv, "NAME")},
                               {"pretty_name", Get(kv, "PRETTY_NAME")},
                               {"variant", Get(kv, "VARIANT")},
                               {"variant_id", Get(kv, "VARIANT_ID")},
                               {"version", Get(kv, "VERSION")},
                               {"version_codename", Get(kv, "VERSION_CODENAME")},
                               {"version_id", Get(kv, "VERSION_ID")}});
    version_labels_ = MakeLabels(
        {{"id", Get(kv, "ID")}, {"id_like", Get(kv, "ID_LIKE")}, {"name", Get(kv, "NAME")}});
    // node_exporter: the leading ^[0-9]+\.?[0-9]* of VERSION_ID as a number.
    const std::string_view id = Get(kv, "VERSION_ID");
    std::size_t end = 0;
    while (end < id.size() && id[end] >= '0' && id[end] <= '9') {
      ++end;
    }
    if (end > 0 && end < id.size() && id[end] == '.') {
      ++end;
      while (end < id.size() && id[end] >= '0' && id[end] <= '9') {
        ++end;
      }
    }
    std::string_view number = id.substr(0, end);
    if (number.ends_with('.')) {
      number.remove_suffix(1);
    }
    version_ = 0;
    if (!number.empty()) {
      procfs::ParseDouble(number, version_);
    }
  }
  FamilyWriter out(result.families, ctx.wall_ms);
  out.Family("node_os_info",
             "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, "
             "image_version, name, pretty_name, variant, variant_id, version, version_codename, "
             "version_id.",
             MetricType::kGauge)
      .Add(1, info_labels_);
  if (version_ > 0) {
    out.Family("node_os_version", "Metric containing the major.minor part of the OS version.",
               MetricType::kGauge)
        .Add(version_, version_labels_);
  }
  out.Finish();
}

}  // namespace metricsd
