// NameFilter: the include/exclude pair of regular expressions (ECMAScript) the config uses
// for mountpoints, filesystem types, block devices and interfaces. A name passes when it
// matches `include` (or include is empty) and does not match `exclude`. Matching is a
// search, not a full match: anchor with ^...$ where that is meant.
//
// Construction compiles both patterns and throws std::regex_error on a bad one (start-up
// only). Matches() is for rediscovery, never for every sample of every tick. Immutable;
// safe to share across threads after construction.
#pragma once

#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric.h"

namespace metricsd {

class NameFilter {
 public:
  NameFilter(const std::string& include, const std::string& exclude);

  bool Matches(std::string_view name) const;

 private:
  std::optional<std::regex> include_;
  std::optional<std::regex> exclude_;
};

// One name of a list the kernel prints (a block device, a network interface), with the
// filter's decision about it and the label set its samples carry.
struct FilteredName {
  std::string name;
  bool included = false;
  Labels labels;  // {<label>="<name>"} when included, else empty
};

// True when `list` holds exactly `names`, in order.
bool SameNames(const std::vector<FilteredName>& list, std::span<const std::string_view> names);

// Makes `list` hold `names` in order. Entries of names that were already in the list are
// kept (decision and labels), so the filter's regular expressions run only for new names;
// names that left are forgotten.
void UpdateFilteredNames(std::vector<FilteredName>& list, std::span<const std::string_view> names,
                         const NameFilter& filter, std::string_view label_name);

}  // namespace metricsd
