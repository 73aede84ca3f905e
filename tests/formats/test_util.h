// Helpers shared by the formats tests: readable gtest output for labels, a label-set builder.
#pragma once

#include <initializer_list>
#include <ostream>
#include <utility>

#include "core/metric.h"

namespace metricsd {

inline void PrintTo(const Label& label, std::ostream* os) {
  *os << label.name << "=\"" << label.value << "\"";
}

inline Labels L(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  Labels labels;
  for (const auto& [name, value] : pairs) {
    labels.push_back(Label{name, value});
  }
  return labels;
}

}  // namespace metricsd
