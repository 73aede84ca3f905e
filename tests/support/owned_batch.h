// Owning copies of views, for tests that compare what a shipper or codec saw with the
// families they started from (production code reads the views directly).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/metric.h"
#include "core/sample_views.h"

namespace metricsd::testing {

// The samples of `range` as families (consecutive samples of a family grouped).
inline std::vector<MetricFamily> OwnedBatch(const SampleRange& range) {
  std::vector<MetricFamily> batch;
  const SampleViews& views = *range.views;
  std::uint32_t current = 0;
  for (std::size_t i = range.begin; i < range.end; ++i) {
    const SampleViews::Entry& e = views.samples[i];
    if (batch.empty() || e.family != current) {
      const SampleViews::Family& f = views.families[e.family];
      batch.push_back(MetricFamily{std::string(f.name), std::string(f.help), f.type, {}});
      current = e.family;
    }
    Sample& sample = batch.back().samples.emplace_back();
    sample.name = e.name;
    sample.value = e.value;
    sample.timestamp_ms = e.timestamp_ms;
    for (const LabelView& l : views.LabelsOf(e)) {
      sample.labels.push_back(Label{std::string(l.name), std::string(l.value)});
    }
  }
  return batch;
}

}  // namespace metricsd::testing
