// Parser for /proc/vmstat: one "name value" counter per line. Pure.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace metricsd::procfs {

struct VmstatField {
  std::string_view name;  // view into the text, e.g. "pgfault"
  std::uint64_t value = 0;
};

// Appends the well-formed lines to `out` (cleared first), in file order.
void ParseVmstat(std::string_view text, std::vector<VmstatField>& out);

}  // namespace metricsd::procfs
