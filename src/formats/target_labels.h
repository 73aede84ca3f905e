// Post-processing of freshly scraped families, before they join a snapshot: the metric-name
// prefix, the `endpoint` label and the per-endpoint extra labels.
//
// Prometheus' honor_labels=false rule applies to every label metricsd sets: a scraped label
// with the same name is kept as exported_<name> (exported_exported_<name> if that is taken
// too), so the target cannot overwrite `endpoint`, and no scraped data is lost. `endpoint`
// wins over an extra label of the same name. Empty values are not set (remote write forbids
// them). Label sets stay sorted.
//
// The prefix is prepended to family and sample names as given ("" keeps them). ParseJsonApp
// applies its own prefix, so pass "" here for JSON bodies.
#pragma once

#include <span>
#include <string_view>

#include "core/metric.h"

namespace metricsd {

void ApplyTargetLabels(std::span<MetricFamily> families, std::string_view prefix,
                       std::string_view endpoint, const Labels& extra_labels);

}  // namespace metricsd
