// Renders families in the Prometheus text exposition format 0.0.4 (served on /metrics
// and printed by -once). Families that share a name (e.g. the same application metric
// scraped from two endpoints) are grouped under one HELP/TYPE header, as the format
// requires. Numbers use the shortest round-trip form (std::to_chars), independent of the
// locale; NaN and infinities use the spellings Prometheus parses. Timestamps are not
// written: the scraper stamps samples with its own scrape time.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/metric.h"

namespace metricsd {

inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Appends to `out`; reuses its capacity.
void AppendPrometheusText(std::span<const MetricFamily> families, std::string& out);

// The same for several lists at once (e.g. system, scraped and self metrics), grouped
// across all of them so that a name shared between lists gets one header.
void AppendPrometheusText(std::span<const std::span<const MetricFamily>> parts, std::string& out);

// Shortest round-trip decimal; "NaN", "+Inf", "-Inf" for the special values.
void AppendDouble(double value, std::string& out);

}  // namespace metricsd
