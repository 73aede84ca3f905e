// Parser for /proc/uptime: seconds since boot and idle CPU-seconds since boot. Pure.
#pragma once

#include <string_view>

namespace metricsd::procfs {

struct Uptime {
  double uptime_seconds = 0;
  double idle_seconds = 0;  // summed over CPUs
};

// "347.84 644.83"
bool ParseUptime(std::string_view text, Uptime& out) noexcept;

}  // namespace metricsd::procfs
