// DeviceTable: a kernel table with one line per device (/proc/diskstats, /proc/net/dev), read
// once per tick. Each line is split into the device's name and the text of its counters; the
// counters are parsed later and only for the devices a collector reports. The filter decision
// and label set of each name are kept from tick to tick (UpdateFilteredNames), so the regular
// expressions run only for names not seen in the previous tick.
// Not thread-safe (one Read() at a time).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/name_filter.h"
#include "core/result.h"
#include "procfs/proc_file.h"

namespace metricsd {

class DeviceTable {
 public:
  // Sets the device name and the text of its counters from one line; false for a line that
  // names no device (headers).
  using SplitLine = bool (*)(std::string_view line, std::string_view& name,
                             std::string_view& counters);

  // Throws std::invalid_argument on an invalid pattern (start-up only).
  DeviceTable(std::string path, const std::string& include, const std::string& exclude,
              std::string label_name, SplitLine split);

  // Reads and splits the file. Views returned below stay valid until the next Read().
  Status Read();

  // The devices of the last Read(), in file order, with the filter's decision and labels.
  const std::vector<FilteredName>& devices() const noexcept { return devices_; }
  std::string_view counters(std::size_t i) const noexcept { return counters_[i]; }
  std::string_view line(std::size_t i) const noexcept { return lines_[i]; }
  // True when the last Read() found a different list of names than the one before.
  bool names_changed() const noexcept { return names_changed_; }

 private:
  procfs::ProcFile file_;
  NameFilter filter_;
  std::string label_name_;
  SplitLine split_;
  std::vector<std::string_view> names_;
  std::vector<std::string_view> counters_;
  std::vector<std::string_view> lines_;
  std::vector<FilteredName> devices_;
  bool names_changed_ = false;
};

// The splitters of the two tables.
bool SplitDiskstats(std::string_view line, std::string_view& name, std::string_view& counters);
bool SplitNetDev(std::string_view line, std::string_view& name, std::string_view& counters);

}  // namespace metricsd
