#include "collectors/device_table.h"

#include <utility>

#include "procfs/proc_diskstats.h"
#include "procfs/proc_net_dev.h"
#include "procfs/text.h"

namespace metricsd {

DeviceTable::DeviceTable(std::string path, const std::string& include, const std::string& exclude,
                         std::string label_name, SplitLine split)
    : file_(std::move(path), 8 * 1024),
      filter_(include, exclude),
      label_name_(std::move(label_name)),
      split_(split) {}

Status DeviceTable::Read() {
  auto text = file_.Read();
  if (!text.ok()) {
    return Error{text.error()};
  }
  names_.clear();
  counters_.clear();
  lines_.clear();
  std::string_view rest = *text;
  while (!rest.empty()) {
    const std::string_view line = procfs::NextLine(rest);
    std::string_view name;
    std::string_view counters;
    if (split_(line, name, counters)) {
      names_.push_back(name);
      counters_.push_back(counters);
      lines_.push_back(line);
    }
  }
  names_changed_ = !SameNames(devices_, names_);
  if (names_changed_) {
    UpdateFilteredNames(devices_, names_, filter_, label_name_);
  }
  return {};
}

bool SplitDiskstats(std::string_view line, std::string_view& name, std::string_view& counters) {
  procfs::DiskstatsLine parsed;
  if (!procfs::SplitDiskstatsLine(line, parsed, counters)) {
    return false;
  }
  name = parsed.name;
  return true;
}

bool SplitNetDev(std::string_view line, std::string_view& name, std::string_view& counters) {
  procfs::NetDevLine parsed;
  if (!procfs::SplitNetDevLine(line, parsed, counters)) {
    return false;
  }
  name = parsed.name;
  return true;
}

}  // namespace metricsd
