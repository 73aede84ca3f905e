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
#include <string>
#include <string_view>

namespace metricsd {

class NameFilter {
 public:
  NameFilter(const std::string& include, const std::string& exclude);

  bool Matches(std::string_view name) const;

 private:
  std::optional<std::regex> include_;
  std::optional<std::regex> exclude_;
};

}  // namespace metricsd
