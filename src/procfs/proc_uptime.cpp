#include "procfs/proc_uptime.h"

#include "procfs/text.h"

namespace metricsd::procfs {

bool ParseUptime(std::string_view text, Uptime& out) noexcept {
  out = Uptime{};
  std::string_view line = NextLine(text);
  if (!ParseDouble(NextField(line), out.uptime_seconds)) {
    return false;
  }
  ParseDouble(NextField(line), out.idle_seconds);
  return true;
}

}  // namespace metricsd::procfs
