#include "procfs/proc_pressure.h"

#include "procfs/text.h"

namespace metricsd::procfs {

namespace {

bool ParseLine(std::string_view rest, bool averages, PressureLine& out) {
  if (!averages) {
    // The kernel prints total= last: take it without walking the averages.
    constexpr std::string_view kTotal = " total=";
    const std::size_t at = rest.rfind(kTotal);
    if (at != std::string_view::npos && ParseU64(rest.substr(at + kTotal.size()), out.total_us)) {
      return true;
    }
  }
  bool has_total = false;
  for (std::string_view field = NextField(rest); !field.empty(); field = NextField(rest)) {
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos) {
      return false;
    }
    const std::string_view key = field.substr(0, eq);
    const std::string_view value = field.substr(eq + 1);
    if (key == "total") {
      has_total = ParseU64(value, out.total_us);
    } else if (!averages) {
      // Not wanted: skip the decimal parse.
    } else if (key == "avg10") {
      ParseDouble(value, out.avg10);
    } else if (key == "avg60") {
      ParseDouble(value, out.avg60);
    } else if (key == "avg300") {
      ParseDouble(value, out.avg300);
    }
  }
  return has_total;
}

bool Parse(std::string_view text, bool averages, Pressure& out) noexcept {
  out = Pressure{};
  while (!text.empty()) {
    std::string_view line = NextLine(text);
    const std::string_view kind = NextField(line);
    if (kind == "some") {
      out.has_some = ParseLine(line, averages, out.some);
    } else if (kind == "full") {
      out.has_full = ParseLine(line, averages, out.full);
    }
  }
  return out.has_some || out.has_full;
}

}  // namespace

bool ParsePressure(std::string_view text, Pressure& out) noexcept {
  return Parse(text, /*averages=*/true, out);
}

bool ParsePressureTotals(std::string_view text, Pressure& out) noexcept {
  return Parse(text, /*averages=*/false, out);
}

}  // namespace metricsd::procfs
