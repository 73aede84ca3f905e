#include "collectors/name_filter.h"

#include <re2/re2.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace metricsd {

namespace {
std::shared_ptr<const re2::RE2> Compile(const std::string& pattern) {
  if (pattern.empty()) {
    return nullptr;
  }
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto compiled = std::make_shared<const re2::RE2>(pattern, options);
  if (!compiled->ok()) {
    throw std::invalid_argument("invalid regular expression \"" + pattern +
                                "\": " + compiled->error());
  }
  return compiled;
}
}  // namespace

NameFilter::NameFilter(const std::string& include, const std::string& exclude)
    : include_(Compile(include)), exclude_(Compile(exclude)) {}

bool NameFilter::Matches(std::string_view name) const {
  const re2::StringPiece text(name.data(), name.size());
  if (include_ && !re2::RE2::PartialMatch(text, *include_)) {
    return false;
  }
  return !(exclude_ && re2::RE2::PartialMatch(text, *exclude_));
}

bool SameNames(const std::vector<FilteredName>& list, std::span<const std::string_view> names) {
  if (list.size() != names.size()) {
    return false;
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (list[i].name != names[i]) {
      return false;
    }
  }
  return true;
}

void UpdateFilteredNames(std::vector<FilteredName>& list, std::span<const std::string_view> names,
                         const NameFilter& filter, std::string_view label_name) {
  std::vector<FilteredName> next;
  next.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string_view name = names[i];
    // Lists keep their order when a name comes or goes: look from the same position on
    // first, then before it.
    const auto same = [name](const FilteredName& entry) { return entry.name == name; };
    const auto from = list.begin() + static_cast<std::ptrdiff_t>(std::min(i, list.size()));
    auto it = std::find_if(from, list.end(), same);
    if (it == list.end()) {
      it = std::find_if(list.begin(), from, same);
      if (it == from) {
        it = list.end();
      }
    }
    if (it != list.end()) {
      next.push_back(std::move(*it));
      it->name.clear();  // moved from; never matches a real name again
      continue;
    }
    FilteredName entry{std::string(name), filter.Matches(name), {}};
    if (entry.included) {
      entry.labels = {{std::string(label_name), entry.name}};
    }
    next.push_back(std::move(entry));
  }
  list = std::move(next);
}

}  // namespace metricsd
