// DiskIoCollector: block device I/O counters from /proc/diskstats, labelled by the kernel's
// device name.
//
// The device filter (config collector.disk_io: include/exclude regular expressions; by
// default partitions, loop, ram, zram, floppy and optical devices are left out so that sums
// over devices do not double count) runs once per device name: every tick compares the names
// with the last tick's and reuses the decisions and label sets; the counters of devices left
// out are not even parsed.
// Not thread-safe (one Collect() at a time).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "collectors/device_table.h"
#include "config/options.h"
#include "core/host_paths.h"
#include "procfs/proc_diskstats.h"

namespace metricsd {

class DiskIoCollector final : public Collector {
 public:
  // Throws std::invalid_argument on an invalid pattern (start-up only).
  DiskIoCollector(const HostPaths& paths, const config::DiskIoOptions& options);

  std::string_view name() const override { return "diskio"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  DeviceTable table_;
  std::vector<procfs::DiskStats> stats_;  // parsed counters of the reported devices
  std::vector<std::size_t> reported_;     // their indices in the table
};

}  // namespace metricsd
