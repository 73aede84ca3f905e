#include "procfs/proc_net_dev.h"

#include "procfs/text.h"

namespace metricsd::procfs {

namespace {
constexpr std::uint64_t NetDevStats::*kColumns[16] = {
    &NetDevStats::rx_bytes,      &NetDevStats::rx_packets,    &NetDevStats::rx_errors,
    &NetDevStats::rx_dropped,    &NetDevStats::rx_fifo,       &NetDevStats::rx_frame,
    &NetDevStats::rx_compressed, &NetDevStats::rx_multicast,  &NetDevStats::tx_bytes,
    &NetDevStats::tx_packets,    &NetDevStats::tx_errors,     &NetDevStats::tx_dropped,
    &NetDevStats::tx_fifo,       &NetDevStats::tx_collisions, &NetDevStats::tx_carrier,
    &NetDevStats::tx_compressed,
};
}  // namespace

NetDevStats operator-(const NetDevStats& now, const NetDevStats& before) noexcept {
  NetDevStats d;
  for (auto column : kColumns) {
    d.*column = CounterDelta(now.*column, before.*column);
  }
  return d;
}

bool SplitNetDevLine(std::string_view line, NetDevLine& out, std::string_view& counters) noexcept {
  out = NetDevLine{};
  // Interface names cannot contain ':'; large counters may follow it with no blank.
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  std::string_view name = line.substr(0, colon);
  SkipBlanks(name);
  while (!name.empty() && IsBlank(name.back())) {
    name.remove_suffix(1);
  }
  if (name.empty() || name.find('|') != std::string_view::npos) {
    return false;
  }
  out.name = name;
  counters = line.substr(colon + 1);
  return true;
}

bool ParseNetDevCounters(std::string_view counters, NetDevLine& out) noexcept {
  for (auto column : kColumns) {
    if (!NextU64(counters, out.stats.*column)) {
      return false;
    }
  }
  return true;
}

bool ParseNetDevLine(std::string_view line, NetDevLine& out) noexcept {
  std::string_view counters;
  return SplitNetDevLine(line, out, counters) && ParseNetDevCounters(counters, out);
}

}  // namespace metricsd::procfs
