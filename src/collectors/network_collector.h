// NetworkCollector: per-interface traffic counters from /proc/net/dev (the network
// namespace of the process reading HOST_PROC/net/dev), labelled interface="<name>".
//
// The interface filter (config collector.network: include/exclude regular expressions)
// runs only when the list of interfaces changes; every other tick compares names and
// reuses the label sets built then. Not thread-safe (one Collect() at a time).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.h"
#include "collectors/name_filter.h"
#include "config/options.h"
#include "core/host_paths.h"
#include "procfs/proc_file.h"
#include "procfs/proc_net_dev.h"

namespace metricsd {

class NetworkCollector final : public Collector {
 public:
  // Throws std::regex_error on an invalid pattern (start-up only).
  NetworkCollector(const HostPaths& paths, const config::NetworkOptions& options);

  std::string_view name() const override { return "network"; }
  CollectResult Collect(const CollectContext& ctx) override;

 private:
  struct Interface {
    std::string name;
    bool included = false;
    Labels labels;  // {interface="eth0"}
  };

  void Rediscover();

  NameFilter filter_;
  procfs::ProcFile net_dev_file_;
  std::vector<procfs::NetDevLine> lines_;  // parse target, views into the file buffer
  std::vector<Interface> interfaces_;      // one per line of lines_, same order
};

}  // namespace metricsd
