#include "collectors/network_collector.h"

#include <utility>

#include "procfs/text.h"

namespace metricsd {

NetworkCollector::NetworkCollector(const HostPaths& paths, const config::NetworkOptions& options)
    : filter_(options.interface_include, options.interface_exclude),
      net_dev_file_(paths.Proc("net/dev"), 4 * 1024) {}

void NetworkCollector::Rediscover() {
  interfaces_.clear();
  interfaces_.reserve(lines_.size());
  for (const procfs::NetDevLine& line : lines_) {
    Interface itf;
    itf.name = std::string(line.name);
    itf.included = filter_.Matches(line.name);
    if (itf.included) {
      itf.labels = {{"interface", itf.name}};
    }
    interfaces_.push_back(std::move(itf));
  }
}

CollectResult NetworkCollector::Collect(const CollectContext& ctx) {
  auto text = net_dev_file_.Read();
  if (!text.ok()) {
    return CollectResult::Transient(text.error());
  }
  lines_.clear();
  std::string_view rest = *text;
  while (!rest.empty()) {
    procfs::NetDevLine line;
    if (procfs::ParseNetDevLine(procfs::NextLine(rest), line)) {
      lines_.push_back(line);
    }
  }
  bool same = lines_.size() == interfaces_.size();
  for (std::size_t i = 0; same && i < lines_.size(); ++i) {
    same = lines_[i].name == interfaces_[i].name;
  }
  if (!same) {
    Rediscover();
  }

  const std::int64_t ts = ctx.wall_ms;
  const auto counter = [ts](const char* name, const char* help) {
    return FamilyBuilder(name, help, MetricType::kCounter, ts);
  };
  FamilyBuilder bytes_sent = counter("system_network_bytes_sent_total", "Bytes transmitted.");
  FamilyBuilder bytes_recv = counter("system_network_bytes_recv_total", "Bytes received.");
  FamilyBuilder packets_sent = counter("system_network_packets_sent_total", "Packets transmitted.");
  FamilyBuilder packets_recv = counter("system_network_packets_recv_total", "Packets received.");
  FamilyBuilder errors_in = counter("system_network_errors_in_total", "Receive errors.");
  FamilyBuilder errors_out = counter("system_network_errors_out_total", "Transmit errors.");
  FamilyBuilder drop_in =
      counter("system_network_drop_in_total", "Received packets dropped by the host.");
  FamilyBuilder drop_out =
      counter("system_network_drop_out_total", "Packets dropped on the way out.");
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    const Interface& itf = interfaces_[i];
    if (!itf.included) {
      continue;
    }
    const procfs::NetDevStats& s = lines_[i].stats;
    const auto d = [](std::uint64_t v) { return static_cast<double>(v); };
    bytes_sent.Add(d(s.tx_bytes), itf.labels);
    bytes_recv.Add(d(s.rx_bytes), itf.labels);
    packets_sent.Add(d(s.tx_packets), itf.labels);
    packets_recv.Add(d(s.rx_packets), itf.labels);
    errors_in.Add(d(s.rx_errors), itf.labels);
    errors_out.Add(d(s.tx_errors), itf.labels);
    drop_in.Add(d(s.rx_dropped), itf.labels);
    drop_out.Add(d(s.tx_dropped), itf.labels);
  }
  std::vector<MetricFamily> families;
  if (bytes_sent.empty()) {
    return CollectResult::Ok(std::move(families));
  }
  families.reserve(8);
  for (FamilyBuilder* b : {&bytes_sent, &bytes_recv, &packets_sent, &packets_recv, &errors_in,
                           &errors_out, &drop_in, &drop_out}) {
    families.push_back(b->Build());
  }
  return CollectResult::Ok(std::move(families));
}

}  // namespace metricsd
