// DiskIoCollector: block device I/O counters from /proc/diskstats, labelled by the kernel's
// device name.
//
// The device filter (config collector.disk_io: include/exclude regular expressions; by
// default partitions, loop, ram, zram, floppy and optical devices are left out so that sums
// over devices do not double count) runs only when the list of devices in the file changes;
// every other tick compares names and reuses the label sets built then.
// Not thread-safe (one Collect() at a time).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "collectors/name_filter.h"
#include "config/options.h"
#include "core/host_paths.h"
#include "procfs/proc_diskstats.h"
#include "procfs/proc_file.h"

namespace metricsd {

class DiskIoCollector final : public Collector {
 public:
  // Throws std::regex_error on an invalid pattern (start-up only).
  DiskIoCollector(const HostPaths& paths, const config::DiskIoOptions& options);

  std::string_view name() const override { return "diskio"; }
  CollectResult Collect(const CollectContext& ctx) override;

 private:
  struct Device {
    std::string name;
    bool included = false;
    Labels labels;  // {device="sda"}
  };

  void Rediscover();

  NameFilter filter_;
  procfs::ProcFile diskstats_file_;
  std::vector<procfs::DiskstatsLine> lines_;  // parse target, views into the file buffer
  std::vector<Device> devices_;               // one per line of lines_, same order
};

}  // namespace metricsd
