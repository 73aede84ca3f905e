// NameFilter: the include/exclude pair of regular expressions the config uses for
// mountpoints, filesystem types, block devices and interfaces. A name passes when it matches
// `include` (or include is empty) and does not match `exclude`. Matching is a search, not a
// full match: anchor with ^...$ where that is meant.
//
// The syntax is RE2's, as everywhere in metricsd (relabel rules too) and in Prometheus:
// matching takes linear time whatever the pattern. Construction compiles both patterns and
// throws std::invalid_argument on a bad one (start-up only; the config loader refuses such a
// pattern first). Matches() is for rediscovery, never for every sample of every tick.
// Immutable; safe to share across threads after construction.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/metric.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace metricsd {

class NameFilter {
 public:
  NameFilter(const std::string& include, const std::string& exclude);

  bool Matches(std::string_view name) const;

 private:
  std::shared_ptr<const re2::RE2> include_;  // null: no pattern
  std::shared_ptr<const re2::RE2> exclude_;
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
