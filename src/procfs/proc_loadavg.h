// Parsers for /proc/loadavg and /proc/uptime. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace metricsd::procfs {

struct LoadAvg {
  double load1 = 0;
  double load5 = 0;
  double load15 = 0;
  std::uint64_t runnable = 0;             // runnable scheduling entities (threads) now
  std::uint64_t scheduling_entities = 0;  // all threads
  std::uint64_t last_pid = 0;
};

// "0.02 0.06 0.03 1/89 10783"
bool ParseLoadAvg(std::string_view text, LoadAvg& out) noexcept;

}  // namespace metricsd::procfs
