#include "collectors/network_collector.h"

#include <utility>

#include "procfs/text.h"

namespace metricsd {

NetworkCollector::NetworkCollector(const HostPaths& paths, const config::NetworkOptions& options)
    : filter_(options.interface_include, options.interface_exclude),
      net_dev_file_(paths.Proc("net/dev"), 4 * 1024) {}

CollectResult NetworkCollector::Collect(const CollectContext& ctx) {
  CollectResult result;
  CollectInto(ctx, result);
  return result;
}

void NetworkCollector::CollectInto(const CollectContext& ctx, CollectResult& result) {
  auto text = net_dev_file_.Read();
  if (!text.ok()) {
    result = CollectResult::Transient(text.error());
    return;
  }
  names_.clear();
  counters_.clear();
  std::string_view rest = *text;
  while (!rest.empty()) {
    procfs::NetDevLine line;
    std::string_view counters;
    if (procfs::SplitNetDevLine(procfs::NextLine(rest), line, counters)) {
      names_.push_back(line.name);
      counters_.push_back(counters);
    }
  }
  if (!SameNames(interfaces_, names_)) {
    UpdateFilteredNames(interfaces_, names_, filter_, "interface");
  }

  // Parse only the interfaces that are reported; a malformed line is left out.
  stats_.clear();
  reported_.clear();
  for (std::size_t i = 0; i < interfaces_.size(); ++i) {
    procfs::NetDevLine line;
    if (interfaces_[i].included && procfs::ParseNetDevCounters(counters_[i], line)) {
      stats_.push_back(line.stats);
      reported_.push_back(i);
    }
  }

  FamilyWriter out(result.families, ctx.wall_ms);
  const auto counter = [&](std::string_view name, std::string_view help,
                           std::uint64_t procfs::NetDevStats::*field) {
    out.Family(name, help, MetricType::kCounter);
    for (std::size_t i = 0; i < stats_.size(); ++i) {
      out.Add(static_cast<double>(stats_[i].*field), interfaces_[reported_[i]].labels);
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
