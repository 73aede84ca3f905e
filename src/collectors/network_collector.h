// NetworkCollector: per-interface traffic counters from /proc/net/dev (the network
// namespace of the process reading HOST_PROC/net/dev), labelled interface="<name>".
//
// The interface filter (config collector.network: include/exclude regular expressions)
// runs once per interface name: every tick compares the names with the last tick's and
// reuses the decisions and label sets; the counters of interfaces left out are not parsed.
// Not thread-safe (one Collect() at a time).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "collectors/device_table.h"
#include "config/options.h"
#include "core/host_paths.h"
#include "procfs/proc_net_dev.h"

namespace metricsd {

class NetworkCollector final : public Collector {
 public:
  // Throws std::invalid_argument on an invalid pattern (start-up only).
  NetworkCollector(const HostPaths& paths, const config::NetworkOptions& options);

  std::string_view name() const override { return "network"; }
  CollectResult Collect(const CollectContext& ctx) override;
  void CollectInto(const CollectContext& ctx, CollectResult& result) override;

 private:
  DeviceTable table_;
  std::vector<procfs::NetDevStats> stats_;  // parsed counters of the reported interfaces
  std::vector<std::size_t> reported_;       // their indices in the table
};

}  // namespace metricsd
