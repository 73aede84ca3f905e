#include "collectors/network_collector.h"

#include <utility>

namespace metricsd {

NetworkCollector::NetworkCollector(const HostPaths& paths, const config::NetworkOptions& options)
    : table_(paths.Proc("net/dev"), options.interface_include, options.interface_exclude,
             "interface", SplitNetDev) {}

CollectResult NetworkCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void NetworkCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  if (Status status = table_.Read(); !status.ok()) {
    result = CollectResult::Transient(status.error());
    return;
  }
  // Parse only the interfaces that are reported; a malformed line is left out.
  stats_.clear();
  reported_.clear();
  const std::vector<FilteredName>& interfaces = table_.devices();
  for (std::size_t i = 0; i < interfaces.size(); ++i) {
    procfs::NetDevLine line;
    if (interfaces[i].included && procfs::ParseNetDevCounters(table_.counters(i), line)) {
      stats_.push_back(line.stats);
      reported_.push_back(i);
    }
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
  counter("system_network_bytes_sent_total", "Bytes transmitted.", &NetDevStats::tx_bytes);
  counter("system_network_bytes_recv_total", "Bytes received.", &NetDevStats::rx_bytes);
  counter("system_network_packets_sent_total", "Packets transmitted.", &NetDevStats::tx_packets);
  counter("system_network_packets_recv_total", "Packets received.", &NetDevStats::rx_packets);
  counter("system_network_errors_in_total", "Receive errors.", &NetDevStats::rx_errors);
  counter("system_network_errors_out_total", "Transmit errors.", &NetDevStats::tx_errors);
  counter("system_network_drop_in_total", "Received packets dropped by the host.",
          &NetDevStats::rx_dropped);
  counter("system_network_drop_out_total", "Packets dropped on the way out.",
          &NetDevStats::tx_dropped);
  out.Finish();
}

}  // namespace metricsd
