#include "procfs/proc_loadavg.h"

#include "procfs/text.h"

namespace metricsd::procfs {

bool ParseLoadAvg(std::string_view text, LoadAvg& out) noexcept {
  out = LoadAvg{};
  if (!ParseDouble(NextField(text), out.load1) || !ParseDouble(NextField(text), out.load5) ||
      !ParseDouble(NextField(text), out.load15)) {
    return false;
  }
  std::string_view threads = NextField(text);
  const std::size_t slash = threads.find('/');
  if (slash != std::string_view::npos) {
    ParseU64(threads.substr(0, slash), out.runnable);
    ParseU64(threads.substr(slash + 1), out.scheduling_entities);
  }
  std::string_view last = NextField(text);
  while (!last.empty() && last.back() == '\n') {
    last.remove_suffix(1);
  }
  ParseU64(last, out.last_pid);
  return true;
}

}  // namespace metricsd::procfs
