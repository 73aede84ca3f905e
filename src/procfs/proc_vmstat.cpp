#include "procfs/proc_vmstat.h"

#include "procfs/text.h"

namespace metricsd::procfs {

void ParseVmstat(std::string_view text, std::vector<VmstatField>& out) {
  out.clear();
  while (!text.empty()) {
    std::string_view line = NextLine(text);
    VmstatField field;
    field.name = NextField(line);
    if (!field.name.empty() && NextU64(line, field.value)) {
      out.push_back(field);
    }
  }
}

}  // namespace metricsd::procfs
