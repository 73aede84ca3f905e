#include "formats/target_labels.h"

#include <algorithm>
#include <string>
#include <utility>

namespace metricsd {
namespace {

Labels::iterator FindLabel(Labels& labels, std::string_view name) {
  auto it = std::lower_bound(labels.begin(), labels.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  return it != labels.end() && it->name == name ? it : labels.end();
}

}  // namespace

void ApplyTargetLabels(std::span<MetricFamily> families, std::string_view prefix,
                       std::string_view endpoint, const Labels& extra_labels) {
  Labels target;
  target.reserve(extra_labels.size() + 1);
  for (const Label& label : extra_labels) {
    if (!label.value.empty()) {
      target.push_back(label);
    }
  }
  SortLabels(target);
  if (!endpoint.empty()) {
    SetLabel(target, "endpoint", endpoint);
  } else {
    auto it = FindLabel(target, "endpoint");
    if (it != target.end()) {
      target.erase(it);
    }
  }

  Labels conflicts;
  for (MetricFamily& family : families) {
    if (!prefix.empty()) {
      family.name.insert(0, prefix);
    }
    for (Sample& sample : family.samples) {
      if (!prefix.empty()) {
        sample.name.insert(0, prefix);
      }
      Labels& labels = sample.labels;
      labels.reserve(labels.size() + target.size());
      conflicts.clear();
      for (const Label& label : target) {
        auto it = FindLabel(labels, label.name);
        if (it == labels.end()) {
          SetLabel(labels, label.name, label.value);
        } else {
          conflicts.push_back(Label{it->name, std::move(it->value)});
          it->value = label.value;
        }
      }
      // As Prometheus: shortest names first, each gets "exported_" until the name is free.
      std::stable_sort(conflicts.begin(), conflicts.end(), [](const Label& a, const Label& b) {
        return a.name.size() < b.name.size();
      });
      for (Label& conflict : conflicts) {
        std::string name = std::move(conflict.name);
        do {
          name.insert(0, "exported_");
        } while (FindLabel(labels, name) != labels.end());
        SetLabel(labels, name, conflict.value);
      }
    }
  }
}

}  // namespace metricsd
