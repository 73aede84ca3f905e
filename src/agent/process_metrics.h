// metricsd's own process metrics (process_* as Prometheus client libraries name them),
// read from /proc/self of the namespace metricsd runs in (not HOST_PROC).
#pragma once

#include <cstdint>
#include <vector>

#include "core/metric.h"

namespace metricsd {

void AppendProcessMetrics(std::int64_t wall_ms, std::vector<MetricFamily>& out);

}  // namespace metricsd
