// Parser for /proc/pressure/{cpu,memory,io,irq} (PSI, Linux 4.20+):
//   some avg10=0.00 avg60=0.00 avg300=0.00 total=12345
//   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
// `total` is cumulative stall time in microseconds. "full" is absent for cpu before 5.13,
// and irq has only "full". Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace metricsd::procfs {

struct PressureLine {
  double avg10 = 0;
  double avg60 = 0;
  double avg300 = 0;
  std::uint64_t total_us = 0;
};

struct Pressure {
  bool has_some = false;
  bool has_full = false;
  PressureLine some;
  PressureLine full;
};

// Returns false when neither line could be read.
bool ParsePressure(std::string_view text, Pressure& out) noexcept;

// The same for readers that need only the cumulative totals: the averages are left 0 and not
// parsed (decimal fractions cost more to parse than the rest of the file).
bool ParsePressureTotals(std::string_view text, Pressure& out) noexcept;

}  // namespace metricsd::procfs
