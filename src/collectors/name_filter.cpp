#include "collectors/name_filter.h"

namespace metricsd {

namespace {
std::optional<std::regex> Compile(const std::string& pattern) {
  if (pattern.empty()) {
    return std::nullopt;
  }
  return std::regex(pattern, std::regex::ECMAScript | std::regex::optimize);
}
}  // namespace

NameFilter::NameFilter(const std::string& include, const std::string& exclude)
    : include_(Compile(include)), exclude_(Compile(exclude)) {}

bool NameFilter::Matches(std::string_view name) const {
  const char* begin = name.data();
  const char* end = name.data() + name.size();
  if (include_ && !std::regex_search(begin, end, *include_)) {
    return false;
  }
  return !(exclude_ && std::regex_search(begin, end, *exclude_));
}

}  // namespace metricsd
