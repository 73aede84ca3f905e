#include "collectors/diskio_collector.h"

#include <utility>

#include "procfs/text.h"

namespace metricsd {

DiskIoCollector::DiskIoCollector(const HostPaths& paths, const config::DiskIoOptions& options)
    : filter_(options.device_include, options.device_exclude),
      diskstats_file_(paths.Proc("diskstats"), 8 * 1024) {}

void DiskIoCollector::Rediscover() {
  devices_.clear();
  devices_.reserve(lines_.size());
  for (const procfs::DiskstatsLine& line : lines_) {
    Device device;
    device.name = std::string(line.name);
    device.included = filter_.Matches(line.name);
    if (device.included) {
      device.labels = {{"device", device.name}};
    }
    devices_.push_back(std::move(device));
  }
}

CollectResult DiskIoCollector::Collect(const CollectContext& ctx) {
  auto text = diskstats_file_.Read();
  if (!text.ok()) {
    return CollectResult::Transient(text.error());
  }
  lines_.clear();
  std::string_view rest = *text;
  while (!rest.empty()) {
    procfs::DiskstatsLine line;
    if (procfs::ParseDiskstatsLine(procfs::NextLine(rest), line)) {
      lines_.push_back(line);
    }
  }
  bool same = lines_.size() == devices_.size();
  for (std::size_t i = 0; same && i < lines_.size(); ++i) {
    same = lines_[i].name == devices_[i].name;
  }
  if (!same) {
    Rediscover();
  }

  const std::int64_t ts = ctx.wall_ms;
  FamilyBuilder read_bytes("system_disk_read_bytes_total", "Bytes read from the device.",
                           MetricType::kCounter, ts);
  FamilyBuilder write_bytes("system_disk_write_bytes_total", "Bytes written to the device.",
                            MetricType::kCounter, ts);
  FamilyBuilder read_count("system_disk_read_count_total", "Read requests completed.",
                           MetricType::kCounter, ts);
  FamilyBuilder write_count("system_disk_write_count_total", "Write requests completed.",
                            MetricType::kCounter, ts);
  FamilyBuilder read_time("system_disk_read_time_seconds_total",
                          "Time spent on completed reads, in seconds (summed over requests).",
                          MetricType::kCounter, ts);
  FamilyBuilder write_time("system_disk_write_time_seconds_total",
                           "Time spent on completed writes, in seconds (summed over requests).",
                           MetricType::kCounter, ts);
  FamilyBuilder io_time("system_disk_io_time_seconds_total",
                        "Time the device had I/O in flight, in seconds (its busy time).",
                        MetricType::kCounter, ts);
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    const Device& device = devices_[i];
    if (!device.included) {
      continue;
    }
    const procfs::DiskStats& s = lines_[i].stats;
    const auto d = [](std::uint64_t v) { return static_cast<double>(v); };
    read_bytes.Add(d(s.sectors_read) * procfs::kDiskstatsSectorBytes, device.labels);
    write_bytes.Add(d(s.sectors_written) * procfs::kDiskstatsSectorBytes, device.labels);
    read_count.Add(d(s.reads_completed), device.labels);
    write_count.Add(d(s.writes_completed), device.labels);
    read_time.Add(d(s.read_time_ms) / 1000.0, device.labels);
    write_time.Add(d(s.write_time_ms) / 1000.0, device.labels);
    io_time.Add(d(s.io_time_ms) / 1000.0, device.labels);
  }
  std::vector<MetricFamily> families;
  if (read_bytes.empty()) {
    return CollectResult::Ok(std::move(families));
  }
  families.reserve(7);
  for (FamilyBuilder* b :
       {&read_bytes, &write_bytes, &read_count, &write_count, &read_time, &write_time, &io_time}) {
    families.push_back(b->Build());
  }
  return CollectResult::Ok(std::move(families));
}

}  // namespace metricsd
