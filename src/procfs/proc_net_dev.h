// Parser for /proc/net/dev (and /proc/<pid>/net/dev), one line at a time, allocation-free:
// the interface name is a view into the caller's text. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace metricsd::procfs {

struct NetDevStats {
  std::uint64_t rx_bytes = 0;
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_errors = 0;
  std::uint64_t rx_dropped = 0;
  std::uint64_t rx_fifo = 0;
  std::uint64_t rx_frame = 0;
  std::uint64_t rx_compressed = 0;
  std::uint64_t rx_multicast = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_errors = 0;
  std::uint64_t tx_dropped = 0;
  std::uint64_t tx_fifo = 0;
  std::uint64_t tx_collisions = 0;
  std::uint64_t tx_carrier = 0;
  std::uint64_t tx_compressed = 0;

  // Counter deltas; a decrease (interface re-created, 32-bit wrap) counts as 0.
  friend NetDevStats operator-(const NetDevStats& now, const NetDevStats& before) noexcept;
  friend bool operator==(const NetDevStats&, const NetDevStats&) = default;
};

struct NetDevLine {
  std::string_view name;  // view into the parsed text
  NetDevStats stats;
};

// Returns false for the two header lines and anything malformed.
bool ParseNetDevLine(std::string_view line, NetDevLine& out) noexcept;

// ParseNetDevLine in two steps, so that a reader can skip the interfaces it does not report
// before parsing their counters: SplitNetDevLine sets `out.name` (stats left zero) and
// returns the text after the colon in `counters`; false for a line that names no interface.
bool SplitNetDevLine(std::string_view line, NetDevLine& out, std::string_view& counters) noexcept;
// Parses the 16 counters of a split line into `out.stats`; false when they are malformed.
bool ParseNetDevCounters(std::string_view counters, NetDevLine& out) noexcept;

}  // namespace metricsd::procfs
