#include "collectors/diskio_collector.h"

#include <utility>

namespace metricsd {

DiskIoCollector::DiskIoCollector(const HostPaths& paths, const config::DiskIoOptions& options)
    : table_(paths.Proc("diskstats"), options.device_include, options.device_exclude, "device",
             SplitDiskstats) {}

CollectResult DiskIoCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void DiskIoCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  if (Status status = table_.Read(); !status.ok()) {
    result = CollectResult::Transient(status.error());
    return;
  }
  // Parse only the devices that are reported; a malformed line is left out.
  stats_.clear();
  reported_.clear();
  const std::vector<FilteredName>& devices = table_.devices();
  for (std::size_t i = 0; i < devices.size(); ++i) {
    procfs::DiskstatsLine line;
    if (devices[i].included && procfs::ParseDiskstatsCounters(table_.counters(i), line)) {
      stats_.push_back(line.stats);
      reported_.push_back(i);
    }
  }

  FamilyWriter out(result.families, ctx.wall_ms);
  const auto counter = [&](std::string_view name, std::string_view help, auto value) {
    out.Family(name, help, MetricType::kCounter);
    for (std::size_t i = 0; i < stats_.size(); ++i) {
      out.Add(value(stats_[i]), devices[reported_[i]].labels);
    }
  };
  const auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  using procfs::DiskStats;
  counter("system_disk_read_bytes_total", "Bytes read from the device.",
          [&](const DiskStats& s) { return d(s.sectors_read) * procfs::kDiskstatsSectorBytes; });
  counter("system_disk_write_bytes_total", "Bytes written to the device.",
          [&](const DiskStats& s) { return d(s.sectors_written) * procfs::kDiskstatsSectorBytes; });
  counter("system_disk_read_count_total", "Read requests completed.",
          [&](const DiskStats& s) { return d(s.reads_completed); });
  counter("system_disk_write_count_total", "Write requests completed.",
          [&](const DiskStats& s) { return d(s.writes_completed); });
  counter("system_disk_read_time_seconds_total",
          "Time spent on completed reads, in seconds (summed over requests).",
          [&](const DiskStats& s) { return d(s.read_time_ms) / 1000.0; });
  counter("system_disk_write_time_seconds_total",
          "Time spent on completed writes, in seconds (summed over requests).",
          [&](const DiskStats& s) { return d(s.write_time_ms) / 1000.0; });
  counter("system_disk_io_time_seconds_total",
          "Time the device had I/O in flight, in seconds (its busy time).",
          [&](const DiskStats& s) { return d(s.io_time_ms) / 1000.0; });
  out.Finish();
}

}  // namespace metricsd
